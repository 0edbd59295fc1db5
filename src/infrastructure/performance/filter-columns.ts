/**
 * Which columns of a table a statement's pattern filters on: the columns its WHERE clauses compare with a
 * placeholder (`owner = ?`, `d.coach_id = ANY (?)`, `created_at >= ?`). A reading of the text, not of a plan:
 * enough to name the column an index would serve; a pattern it cannot read yields no column, so no advice.
 */

const NOT_AN_ALIAS = new Set(
  (
    'where join on inner left right full cross set using order group limit natural lateral tablesample union ' +
    'returning for window having offset fetch values select and or as'
  ).split(' '),
);

const TABLE_REFERENCE =
  /\b(?:from|join|update|into)\s+(?:only\s+)?(?:[\w"]+\.)?("[^"]+"|\w+)(?:\s+(?:as\s+)?(\w+))?/gi;

/** A WHERE clause runs until the next clause of its statement, or the end. */
const WHERE_CLAUSE =
  /\bwhere\b([\s\S]*?)(?=\border\s+by\b|\bgroup\s+by\b|\blimit\b|\breturning\b|\bunion\b|\bhaving\b|\bwindow\b|\bfor\s+update\b|\bon\s+conflict\b|$)/gi;

const COMPARISON =
  /(?:("[^"]+"|\w+)\.)?("[^"]+"|[a-z_]\w*)\s*(?:=|<>|!=|<=|>=|<|>|\bin\b|\blike\b|\bilike\b|@>|&&|\bbetween\b)\s*(?:any\s*)?[(\s]*\?/gi;

function identifier(raw: string): string {
  return raw.startsWith('"') ? raw.slice(1, -1) : raw.toLowerCase();
}

/** The names the pattern reads `table` under (itself and its aliases); empty when it does not read it. */
function namesOf(pattern: string, table: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, alias] of pattern.matchAll(TABLE_REFERENCE)) {
    if (identifier(name!) !== table) continue;
    names.add(table);
    if (alias && !NOT_AN_ALIAS.has(alias.toLowerCase())) names.add(alias.toLowerCase());
  }
  return names;
}

/**
 * The columns of `table` (whose columns are `columns`) that `pattern` compares with a placeholder, in the order
 * they come; unqualified names count when the table has such a column.
 */
export function filterColumns(pattern: string, table: string, columns: ReadonlySet<string>): string[] {
  const names = namesOf(pattern, table);
  if (names.size === 0) return [];
  const found: string[] = [];
  for (const [, clause] of pattern.matchAll(WHERE_CLAUSE)) {
    for (const [, qualifier, rawColumn] of clause!.matchAll(COMPARISON)) {
      const column = identifier(rawColumn!);
      if (qualifier !== undefined && !names.has(identifier(qualifier))) continue;
      if (columns.has(column) && !found.includes(column)) found.push(column);
    }
  }
  return found;
}
