import { detectEncoding } from '/work/main/dist/ingest/charset.js';
import iconv from 'iconv-lite';
const samples = [
 '氏名,会社\r\n山田太郎,株式会社東京\r\n',
 '姓,名,会社名,都道府県\r\n山田,太郎,株式会社東京商事,東京都\r\n佐藤,花子,大阪物産株式会社,大阪府\r\n',
 'Last_Name,Company,City\r\n山田,株式会社東京商事,東京都\r\n佐藤,大阪物産株式会社,大阪府\r\n鈴木,名古屋工業,愛知県\r\n',
 '姓;会社\r\n山田;日本語のテキストです\r\n',
 '山田太郎;東京都;日本語のテキストです',
];
for (const t of samples) console.log(detectEncoding(iconv.encode(t, 'Shift_JIS')), JSON.stringify(t));
