/**
 * The line format shared by the admin's configuration files (`nodes`,
 * `distribution_rules`, `allowed_users`): `#` starts a comment, blank lines are skipped, and
 * what is left is split into whitespace-separated words.
 */

/** One meaningful line: its 1-based number, its text without the comment, and its words. */
export interface ConfigLine {
  lineNo: number;
  content: string;
  words: string[];
}

export function configLines(text: string): ConfigLine[] {
  const out: ConfigLine[] = [];
  const lines = text.split(/\r?\n/);
  for (let idx = 0; idx < lines.length; idx++) {
    const raw = lines[idx]!;
    const hash = raw.indexOf('#');
    const content = (hash >= 0 ? raw.slice(0, hash) : raw).trim();
    if (content !== '') out.push({ lineNo: idx + 1, content, words: content.split(/\s+/) });
  }
  return out;
}
