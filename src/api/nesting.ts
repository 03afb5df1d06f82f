// How deeply a JSON or YAML text nests its collections, counted on the raw text before any parser
// or recursive walk sees it: a body nested thousands of levels deep is valid JSON, but every
// recursive function that later walks it (validation, pruning, patching, comparison) would
// overflow the stack. Kubernetes bounds nesting the same way. Guarantees: `[` and `{` inside
// double-quoted strings (with backslash escapes) are not counted; linear in the text, no
// recursion. Does not: count YAML block nesting by indentation (block YAML that deep is not a
// realistic attack on a JSON-first API; flow collections are counted), or parse anything.
export const MAX_NESTING_DEPTH = 1_000;

export function nestingDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) max = depth;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}
