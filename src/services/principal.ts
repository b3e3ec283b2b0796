/** Who is calling: resolved from the access token by the HTTP auth hook. */
export interface Principal {
  readonly orgId: string;
  readonly userId: string;
  readonly userName: string;
  readonly scopes: readonly string[];
  readonly tokenExpiresAt: Date | null;
}
