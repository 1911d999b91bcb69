/** The sort order adapters must agree on. @module */

/** Code-unit string comparison (what SQLite's BINARY collation does), for sorts adapters must agree on. */
export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
