/** oidc-provider ships no types; test/support/oidc-provider.ts types the little it uses. */
declare module 'oidc-provider' {
  const Provider: unknown;
  export default Provider;
}
