/**
 * The operation names of a real AWS API, read from its official SDK client
 * module (every `<Name>Command` export): the list of what a service must
 * answer, implemented or 501.
 */
export function sdkOperations(sdk: Record<string, unknown>): string[] {
  return Object.keys(sdk)
    // Operation commands only: not the base `Command` nor smithy's re-exported `$Command`.
    .filter((k) => /^[A-Z][A-Za-z0-9]*Command$/.test(k) && k !== 'Command' && typeof sdk[k] === 'function')
    .map((k) => k.slice(0, -'Command'.length))
    .sort();
}
