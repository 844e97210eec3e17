/**
 * `*` globs (any run of characters, every other character literal) matched without a regular expression: a
 * pattern built as /^.*a.*b$/ backtracks exponentially (17 `*` then `Z` held the event loop 21 s, #13). Here the
 * text between stars is found left to right, each part at its first place after the last: O(pattern × value) at
 * worst, never exponential.
 */
export function globMatches (pattern: string, value: string): boolean {
  const parts = pattern.split('*')
  if (parts.length === 1) return pattern === value
  const first = parts[0]
  const last = parts[parts.length - 1]
  if (value.length < first.length + last.length || !value.startsWith(first) || !value.endsWith(last)) return false
  let at = first.length
  const end = value.length - last.length
  for (let i = 1; i < parts.length - 1; i++) {
    const part = parts[i]
    if (part === '') continue
    const found = value.indexOf(part, at)
    if (found === -1 || found + part.length > end) return false
    at = found + part.length
  }
  return true
}
