/**
 * The operation names of a real AWS API, read from its official SDK client
 * module (every `<Name>Command` export): the list of what a service must
 * answer, implemented or 501.
 */
export function sdkOperations(sdk: Record<string, unknown>): string[] {
  return Object.keys(sdk)
    .filter((k) => k.endsWith('Command') && k !== 'Command' && typeof sdk[k] === 'function')
    .map((k) => k.slice(0, -'Command'.length))
    .sort();
}
