/**
 * Attribute expressions (`qpy sub -a 'big and not gpu'`): a tokenizer, a
 * recursive-descent parser and an evaluator.
 *
 * Grammar (precedence not > and > or, all binary operators left-associative):
 *   expr    := andExpr ("or" andExpr)*
 *   andExpr := unary ("and" unary)*
 *   unary   := "not" unary | primary
 *   primary := IDENT | "(" expr ")"
 * Parentheses may touch words: `(big)and(infiband)`, `not((big)or(fast))`.
 *
 * Unlike the original (which `eval`ed the text and let invalid expressions
 * match every node, §3.7), an invalid expression is rejected with a message
 * that says what is wrong, so a typo is caught at submission.
 *
 * No input can overflow the stack: the parser counts how deep "(" and "not"
 * nest and refuses more than MAX_EXPR_DEPTH before it recurses (BAD_EXPR),
 * and the walkers below loop along and/or chains, which parse left-deep, so
 * they recurse only as deep as that nesting.
 */

/** The parsed form of an attribute expression. */
export type AttrExpr =
  | { kind: 'attr'; name: string }
  | { kind: 'not'; operand: AttrExpr }
  | { kind: 'and' | 'or'; left: AttrExpr; right: AttrExpr };

/**
 * `code`: INVALID_EXPRESSION for text that does not parse, BAD_EXPR for
 * parentheses and "not" nested deeper than MAX_EXPR_DEPTH.
 */
export type AttrParseResult = { ok: true; expr: AttrExpr | null } | { ok: false; code: 'INVALID_EXPRESSION' | 'BAD_EXPR'; message: string };

/** How deep "(" and "not" may nest in an expression: `((a))` is 2 deep, `not (a or not b)` 3. */
export const MAX_EXPR_DEPTH = 64;

/** Words that are operators, so they can never be attribute or node names. */
export const ATTR_KEYWORDS: readonly string[] = ['and', 'or', 'not'];

/**
 * Characters allowed in an attribute or node name. Kept narrow so that a
 * user typing `big && fast` gets an error instead of a job that never runs.
 */
export const ATTR_NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** True if `name` can be used as an attribute (and be written in an expression). */
export function isValidAttrName(name: string): boolean {
  return ATTR_NAME_PATTERN.test(name) && !ATTR_KEYWORDS.includes(name);
}

type Token = { kind: 'ident' | 'and' | 'or' | 'not' | '(' | ')'; text: string };

class ExprError extends Error {}
class TooDeepError extends Error {}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const re = /\s*(?:([()])|([^\s()]+))/y;
  let pos = 0;
  while (pos < text.length) {
    re.lastIndex = pos;
    const m = re.exec(text);
    if (m === null) break; // only trailing whitespace is left
    pos = re.lastIndex;
    const paren = m[1];
    const word = m[2];
    if (paren !== undefined) {
      tokens.push({ kind: paren as '(' | ')', text: paren });
    } else if (word !== undefined) {
      if (word === 'and' || word === 'or' || word === 'not') tokens.push({ kind: word, text: word });
      else if (ATTR_NAME_PATTERN.test(word)) tokens.push({ kind: 'ident', text: word });
      else {
        const bad = [...word].find((ch) => !/[A-Za-z0-9_.-]/.test(ch)) ?? word[0] ?? '';
        throw new ExprError(
          `"${word}" is not an attribute name (unexpected character "${bad}"; combine attributes with and, or, not and parentheses)`,
        );
      }
    }
  }
  return tokens;
}

class Parser {
  private pos = 0;
  private depth = 0;
  constructor(private readonly tokens: Token[]) {}

  parseAll(): AttrExpr {
    const expr = this.parseOr();
    const next = this.tokens[this.pos];
    if (next !== undefined) {
      const prev = this.tokens[this.pos - 1];
      if (next.kind === ')') throw new ExprError('unexpected ")" without a matching "("');
      throw new ExprError(`expected "and" or "or" between "${prev?.text ?? ''}" and "${next.text}"`);
    }
    return expr;
  }

  private parseOr(): AttrExpr {
    let left = this.parseAnd();
    while (this.peek()?.kind === 'or') {
      this.pos++;
      left = { kind: 'or', left, right: this.parseAnd() };
    }
    return left;
  }

  private parseAnd(): AttrExpr {
    let left = this.parseUnary();
    while (this.peek()?.kind === 'and') {
      this.pos++;
      left = { kind: 'and', left, right: this.parseUnary() };
    }
    return left;
  }

  private parseUnary(): AttrExpr {
    if (this.peek()?.kind === 'not') {
      this.pos++;
      this.enter();
      const operand = this.parseUnary();
      this.depth--;
      return { kind: 'not', operand };
    }
    return this.parsePrimary();
  }

  private parsePrimary(): AttrExpr {
    const tok = this.peek();
    const prev = this.tokens[this.pos - 1];
    if (tok === undefined) {
      if (prev === undefined) throw new ExprError('the expression is empty');
      throw new ExprError(`expected an attribute after "${prev.text}"`);
    }
    if (tok.kind === 'ident') {
      this.pos++;
      return { kind: 'attr', name: tok.text };
    }
    if (tok.kind === '(') {
      this.pos++;
      this.enter();
      const inner = this.parseOr();
      this.depth--;
      if (this.peek()?.kind !== ')') {
        const next = this.peek();
        if (next === undefined) throw new ExprError('missing ")"');
        throw new ExprError(`expected "and", "or" or ")" before "${next.text}"`);
      }
      this.pos++;
      return inner;
    }
    if (prev?.kind === '(' && tok.kind === ')') throw new ExprError('empty parentheses "()"');
    if (prev === undefined || prev.kind === '(') throw new ExprError(`expected an attribute before "${tok.text}"`);
    throw new ExprError(`expected an attribute after "${prev.text}", got "${tok.text}"`);
  }

  /** One level deeper, checked before the parser recurses into it. */
  private enter(): void {
    if (++this.depth > MAX_EXPR_DEPTH) throw new TooDeepError(`parentheses and "not" nest more than ${MAX_EXPR_DEPTH} deep`);
  }

  private peek(): Token | undefined {
    return this.tokens[this.pos];
  }
}

/**
 * Parse an attribute expression. Null, empty or blank text gives `expr: null`,
 * which matches every node. Errors read
 * `invalid attribute expression "big and": expected an attribute after "and"`;
 * the text is shortened in the message when it is long.
 */
export function parseAttrExpr(text: string | null): AttrParseResult {
  if (text === null || text.trim() === '') return { ok: true, expr: null };
  try {
    const tokens = tokenize(text);
    return { ok: true, expr: new Parser(tokens).parseAll() };
  } catch (err) {
    if (err instanceof ExprError || err instanceof TooDeepError) {
      const code = err instanceof TooDeepError ? 'BAD_EXPR' : 'INVALID_EXPRESSION';
      return { ok: false, code, message: `invalid attribute expression "${shorten(text.trim())}": ${err.message}` };
    }
    throw err;
  }
}

/** The text as quoted in a message: at most 80 characters, the middle cut out. */
function shorten(text: string): string {
  return text.length <= 80 ? text : `${text.slice(0, 40)}…${text.slice(-30)} (${text.length} characters)`;
}

/** An and/or chain parses left-deep: its innermost left operand and the right operands from first to last. */
function unchain(expr: AttrExpr): { first: AttrExpr; rest: { kind: 'and' | 'or'; right: AttrExpr }[] } {
  const rest: { kind: 'and' | 'or'; right: AttrExpr }[] = [];
  let e = expr;
  while (e.kind === 'and' || e.kind === 'or') {
    rest.push({ kind: e.kind, right: e.right });
    e = e.left;
  }
  return { first: e, rest: rest.reverse() };
}

/**
 * Does a node satisfy the expression? An identifier holds when it is one of
 * the node's attributes or the node's own name (so `-a node3` pins a job).
 * A null expression matches every node.
 */
export function matchesNode(expr: AttrExpr | null, nodeName: string, attributes: readonly string[]): boolean {
  if (expr === null) return true;
  switch (expr.kind) {
    case 'attr':
      return expr.name === nodeName || attributes.includes(expr.name);
    case 'not':
      return !matchesNode(expr.operand, nodeName, attributes);
    case 'and':
    case 'or': {
      const { first, rest } = unchain(expr);
      let value = matchesNode(first, nodeName, attributes);
      for (const { kind, right } of rest) {
        if (kind === 'and' ? value : !value) value = matchesNode(right, nodeName, attributes);
      }
      return value;
    }
  }
}

/** The distinct identifiers of an expression, in order of first use (for messages such as "no node has attribute X"). */
export function expressionNames(expr: AttrExpr | null): string[] {
  const names: string[] = [];
  const walk = (e: AttrExpr): void => {
    switch (e.kind) {
      case 'attr':
        if (!names.includes(e.name)) names.push(e.name);
        return;
      case 'not':
        walk(e.operand);
        return;
      case 'and':
      case 'or': {
        const { first, rest } = unchain(e);
        walk(first);
        for (const r of rest) walk(r.right);
        return;
      }
    }
  };
  if (expr !== null) walk(expr);
  return names;
}

/** A canonical, fully parenthesised rendering (for logs and tests). */
export function formatAttrExpr(expr: AttrExpr | null): string {
  if (expr === null) return '';
  switch (expr.kind) {
    case 'attr':
      return expr.name;
    case 'not':
      return `not ${formatAttrExpr(expr.operand)}`;
    case 'and':
    case 'or': {
      const { first, rest } = unchain(expr);
      let text = formatAttrExpr(first);
      for (const { kind, right } of rest) text = `(${text} ${kind} ${formatAttrExpr(right)})`;
      return text;
    }
  }
}
