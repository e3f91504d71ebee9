// An independent OpenID Provider for the test suite: panva's oidc-provider (OpenID Certified), with
// its development interaction pages (any login is accepted; the login becomes the `sub`).
// Started on loopback by tests/oidc/provider.py. Configuration from the environment:
//   OIDC_PORT     the port to listen on (127.0.0.1)
//   OIDC_CLIENTS  JSON list of clients (client_id, client_secret, redirect_uris, post_logout_redirect_uris)
import * as oidc from "oidc-provider";

const port = Number(process.env.OIDC_PORT);
const issuer = `http://127.0.0.1:${port}`;
const clients = JSON.parse(process.env.OIDC_CLIENTS || "[]");

const provider = new oidc.Provider(issuer, {
  clients,
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
  claims: { openid: ["sub"] },
  cookies: { keys: ["ticketnet-tests-only-cookie-key"] },
  ttl: { Session: 3600, Interaction: 600, Grant: 3600, IdToken: 300, AccessToken: 300, AuthorizationCode: 60 },
});
provider.proxy = false;

const server = provider.listen(port, "127.0.0.1", () => {
  process.stdout.write(`ready ${issuer}\n`);
});

for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
