/** The org a data-dir command acts on: the one named by --org, else the first; an error names what is missing. */
export function chooseOrg(orgs: readonly { id: string }[], org: string | undefined, dataDir: string): string {
  const orgId = org ?? orgs[0]?.id;
  if (!orgId || !orgs.some((x) => x.id === orgId)) {
    throw new Error(org ? `no org ${org} in ${dataDir}` : `no org in ${dataDir} yet: run bulkwright serve once`);
  }
  return orgId;
}

/** A comma-separated flag value (--scopes A,B) as its non-empty items. */
export function commaList(value: string | undefined): string[] | undefined {
  return value?.split(',').map((s) => s.trim()).filter((s) => s !== '');
}
