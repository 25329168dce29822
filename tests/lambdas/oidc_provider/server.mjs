// A real OIDC provider on 127.0.0.1 for the end-to-end tests of /customers/current.
// npm oidc-provider (the library Plaid's sample server uses), configured the way Plaid needs an IdP:
// JWT access tokens for an audience even when the client sends no `resource` (resource indicators with
// a default resource), scopes `openid offline_access`, 900-second access tokens, rotating refresh
// tokens, a confidential client with client_secret_basic and Plaid's redirect URI.
//
//   node server.mjs   (env: PORT, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, AUDIENCE, ACCESS_TOKEN_TTL,
//                     TOKEN_PROFILE, OKTA_LOGINS)
// Prints "ready <issuer>" on stdout once listening on 127.0.0.1.
//
// TOKEN_PROFILE=okta makes access tokens look like an Okta custom authorization server's: `sub` is the
// user's login (usually an email: PII), `uid` the Okta user id (= the id_token `sub`), `cid` the client id
// (no `client_id` claim), `scp` the scopes as a list. OKTA_LOGINS is a JSON object user id -> login.
//
// TOKEN_PROFILE=cognito behaves like an Amazon Cognito user pool: Cognito's endpoint paths
// (/oauth2/authorize, /oauth2/token, /oauth2/userInfo), `invalid_scope` for `offline_access` at the
// authorize endpoint, a refresh token for every code grant anyway, and access tokens without `aud` that
// carry `client_id`, `token_use: "access"` and `username`.
import { generateKeyPairSync } from "node:crypto";
import Provider from "oidc-provider";

const port = Number(process.env.PORT);
const audience = process.env.AUDIENCE;
const issuer = `http://127.0.0.1:${port}`;
const accessTokenTTL = Number(process.env.ACCESS_TOKEN_TTL || 900);
const profile = process.env.TOKEN_PROFILE || "rfc9068";
const oktaLogins = JSON.parse(process.env.OKTA_LOGINS || "{}");
const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: "jwk" }), kid: "test-rs256-1", use: "sig", alg: "RS256" };

const cognito = profile === "cognito";

const provider = new Provider(issuer, {
  ...(cognito ? {
    routes: { authorization: "/oauth2/authorize", token: "/oauth2/token", userinfo: "/oauth2/userInfo" },
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed("refresh_token"),
  } : {}),
  clients: [{
    client_id: process.env.CLIENT_ID,
    client_secret: process.env.CLIENT_SECRET,
    redirect_uris: [process.env.REDIRECT_URI],
    grant_types: ["authorization_code", "refresh_token"],
    response_types: ["code"],
    token_endpoint_auth_method: "client_secret_basic",
  }],
  jwks: { keys: [jwk] },
  scopes: ["openid", "offline_access"],
  claims: { openid: ["sub"] },
  // The account id is the login the test submits: the consistency key Plaid would read as `sub`.
  findAccount: async (_ctx, id) => ({ accountId: id, claims: async () => ({ sub: id }) }),
  features: {
    devInteractions: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: async () => audience,
      useGrantedResource: async () => true,
      getResourceServerInfo: async () => ({
        scope: "",
        audience,
        accessTokenTTL,
        accessTokenFormat: "jwt",
        jwt: { sign: { alg: "RS256" } },
      }),
    },
  },
  formats: {
    customizers: {
      jwt: async (_ctx, _token, jwt) => {
        const p = jwt.payload;
        if (cognito) {
          delete p.aud;
          p.token_use = "access";
          p.username = p.sub;
          return;
        }
        if (profile !== "okta") return;
        p.uid = p.sub;
        p.sub = oktaLogins[p.uid] ?? p.uid;
        p.cid = p.client_id;
        delete p.client_id;
        p.scp = (p.scope || "").split(" ").filter(Boolean);
        delete p.scope;
      },
    },
  },
  pkce: { required: () => false },
  rotateRefreshToken: true,
  ttl: {
    AccessToken: accessTokenTTL,
    AuthorizationCode: 600,
    IdToken: 3600,
    RefreshToken: 397 * 86400,
    Grant: 397 * 86400,
    Interaction: 600,
    Session: 86400,
  },
});
provider.proxy = false;

if (cognito) {
  // Cognito refuses the scope Plaid always sends (idp-reference section 0).
  provider.use(async (ctx, next) => {
    const scope = ctx.path === "/oauth2/authorize" ? String(ctx.query.scope || "") : "";
    if (scope.split(" ").includes("offline_access")) {
      ctx.status = 400;
      ctx.body = { error: "invalid_scope", error_description: "offline_access is not a supported scope" };
      return;
    }
    await next();
  });
}

const server = provider.listen(port, "127.0.0.1", () => {
  process.stdout.write(`ready ${issuer}\n`);
});
const stop = () => server.close(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
