import { detectEncoding, canonicalEncoding } from '/work/main/dist/ingest/charset.js';
import { wallTimeToInstant, formatZohoTime } from '/work/main/dist/domain/time.js';
import iconv from 'iconv-lite';
import chardet from 'chardet';
for (const t of ['Müller;Café', 'Last_Name;City\r\nMüller;Café\r\n', 'Last_Name\nRenée', 'Last_Name\nPeña', 'Name\nJosé']) {
  const b = iconv.encode(t, 'windows-1252');
  console.log(JSON.stringify(t), detectEncoding(b), JSON.stringify(chardet.analyse(b).slice(0,3)));
}
for (const t of ['氏名,会社\r\n山田太郎,株式会社東京\r\n', '東京都渋谷区', '山田太郎;東京都;日本語のテキストです']) {
  const b = iconv.encode(t, 'Shift_JIS');
  console.log(JSON.stringify(t), detectEncoding(b), JSON.stringify(chardet.analyse(b).slice(0,3)));
}
console.log(canonicalEncoding('utf8'), canonicalEncoding(' Shift-JIS '), canonicalEncoding('koi8-r'), canonicalEncoding('nope'), canonicalEncoding('UTF-16'), canonicalEncoding('LATIN1'));
const ny = 'America/New_York';
for (const w of [[2024,3,10,2,30,0],[2024,11,3,1,30,0],[2024,3,10,1,59,59],[2024,3,10,3,0,0],[2024,7,1,12,0,0]]) {
  const d = wallTimeToInstant({year:w[0],month:w[1],day:w[2],hour:w[3],minute:w[4],second:w[5]}, ny);
  console.log(w.join(','), d.toISOString(), formatZohoTime(d, ny));
}
console.log(formatZohoTime(new Date('2024-03-10T06:59:59Z'), ny), formatZohoTime(new Date('2024-03-10T07:00:00Z'), ny));
console.log(formatZohoTime(new Date('2021-05-11T07:08:29.999Z'), 'Asia/Kolkata'), formatZohoTime(new Date('2024-12-31T23:59:59Z'), 'UTC'), formatZohoTime(new Date('2024-01-01T00:00:00Z'), 'UTC'));
console.log(formatZohoTime(new Date('2024-06-01T12:00:00Z'), 'Asia/Kathmandu'), formatZohoTime(new Date('2024-06-01T12:00:00Z'), 'America/St_Johns'));
