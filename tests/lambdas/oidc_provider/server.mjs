// A real OIDC provider on 127.0.0.1 for the end-to-end tests of /customers/current.
// npm oidc-provider (the library Plaid's sample server uses), configured the way Plaid needs an IdP:
// JWT access tokens for an audience even when the client sends no `resource` (resource indicators with
// a default resource), scopes `openid offline_access`, 900-second access tokens, rotating refresh
// tokens, a confidential client with client_secret_basic and Plaid's redirect URI.
//
//   node server.mjs   (env: PORT, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, AUDIENCE, ACCESS_TOKEN_TTL,
//                     TOKEN_PROFILE, OKTA_LOGINS, and the optional knobs below)
// Prints "ready <issuer>" on stdout once listening on 127.0.0.1.
//
// Optional knobs (unset: the behaviour above, unchanged). For `plaid-ready check`'s tests:
//   TLS_CERT, TLS_KEY             PEM files: serve HTTPS, issuer https://127.0.0.1:<port>
//   EXTRA_REDIRECT_URIS           comma list of redirect URIs the client also allows (the check's loopback callback)
//   OFFLINE_ACCESS_WITHOUT_PROMPT=1  honour offline_access without prompt=consent, as Auth0 and Okta do
//                                 (oidc-provider follows OIDC Core 11 and drops it otherwise)
//   USERINFO_ACCEPTS_ACCESS_TOKEN=1  userinfo answers the API's access token (as Auth0 and Okta do; oidc-provider
//                                 refuses tokens that carry an audience)
//   STATE_GRANTED_SCOPE=1         token responses state the granted OIDC scopes in `scope` (as Auth0 and Okta do;
//                                 oidc-provider states the access token's resource scope, here empty)
//   REQUIRE_NONCE=1               refuse an authorize request with scope openid and no nonce, as some conformant
//                                 providers do: a redirect with error=invalid_request&error_description=nonce required
// Misconfigurations, one per knob:
//   ACCESS_TOKEN_FORMAT=opaque    opaque access tokens instead of JWTs
//   ACCESS_TOKEN_TTL=3600         (above) 1-hour access tokens
//   SCOPES_SUPPORTED_OMIT=a,b     scopes left out of discovery's scopes_supported
//   REFRESH_TOKEN=none            never issue a refresh token
//   ROTATE_REFRESH_TOKEN=false    refresh tokens do not rotate (the same one comes back and stays valid)
//   SUB=<value>                   every user's sub (id_token, userinfo, access token) is this value
//   DISCOVERY_HTTP=<key>          that discovery endpoint is advertised as http://
//   JWKS_NO_KID=1                 the JWKS serves its keys without kid
//   ID_TOKEN_NONCE=drop|<value>   the nonce of the authorize request is dropped or replaced before the provider reads
//                                 it: the id_token carries no nonce, or another one
//   REFRESH_OMITS_REFRESH_TOKEN=1 a refresh answers without refresh_token (tokens still rotate underneath)
//   OLD_REFRESH_TOKEN_VALID=1     a refresh answers with a new-looking refresh token, but the old one keeps working
//
// Signing-key rotation (docs/rotation.md; tests/lambdas/test_rotation_e2e.py):
//   KEY_ADMIN_PORT=<port>         also serve a key-administration API on 127.0.0.1:<port> (unset: no such server).
//                                 The provider starts with one key (kid test-rs256-1); the API changes its key set:
//     GET    /keys                {"signing": kid, "published": [kid, ...]}
//     POST   /keys                body {"kid": "..."} (optional): a new RSA-2048 key, published at the END of the
//                                 set (verifiable, not yet signing); 201 with the new kid and the state
//     POST   /keys/<kid>/sign     move that key to the FRONT: it signs every token issued from now on
//     DELETE /keys/<kid>          stop publishing it (409 for the signing key or the last key; 404 unknown)
//   oidc-provider reads its `jwks` once, when a Provider is constructed, signs with the first key that fits
//   and publishes all of them; its documented rotation is to edit that list and reload the processes. Each
//   change here is such a reload: a new Provider from the same configuration with the new key list, swapped
//   in for the next request. Grants, sessions and refresh tokens live in one in-memory store shared by every
//   Provider of the process, so they survive the reload as they would with a persistent adapter.
//
// TOKEN_PROFILE=okta makes access tokens look like an Okta custom authorization server's: `sub` is the
// user's login (usually an email: PII), `uid` the Okta user id (= the id_token `sub`), `cid` the client id
// (no `client_id` claim), `scp` the scopes as a list. OKTA_LOGINS is a JSON object user id -> login.
//
// TOKEN_PROFILE=cognito behaves like an Amazon Cognito user pool: Cognito's endpoint paths
// (/oauth2/authorize, /oauth2/token, /oauth2/userInfo), `invalid_scope` for `offline_access` at the
// authorize endpoint, a refresh token for every code grant anyway, and access tokens without `aud` that
// carry `client_id`, `token_use: "access"` and `username`.
import { createPublicKey, generateKeyPairSync, verify } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { createServer } from "node:https";
import Provider from "oidc-provider";
// oidc-provider's own in-memory adapter (9.x constructs one store per Provider): one store for every Provider this
// process constructs, so a key reload keeps grants, sessions and refresh tokens as a persistent adapter would.
import { createMemoryAdapter } from "oidc-provider/lib/adapters/memory_adapter.js";

const env = process.env;
const port = Number(env.PORT);
const audience = env.AUDIENCE;
const tls = env.TLS_CERT && env.TLS_KEY ? { cert: readFileSync(env.TLS_CERT), key: readFileSync(env.TLS_KEY) } : null;
const issuer = `${tls ? "https" : "http"}://127.0.0.1:${port}`;
const accessTokenTTL = Number(process.env.ACCESS_TOKEN_TTL || 900);
const profile = process.env.TOKEN_PROFILE || "rfc9068";
const oktaLogins = JSON.parse(process.env.OKTA_LOGINS || "{}");

// The provider's key set, in oidc-provider's order: the first key signs, every key is published.
const newKey = (kid) => {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return { kid, privateKey, jwk: { ...privateKey.export({ format: "jwk" }), kid, use: "sig", alg: "RS256" } };
};
let keys = [newKey("test-rs256-1")];

const cognito = profile === "cognito";
const forcedSub = env.SUB || null;
const omitScopes = new Set((env.SCOPES_SUPPORTED_OMIT || "").split(",").filter(Boolean));
const extraRedirects = (env.EXTRA_REDIRECT_URIS || "").split(",").filter(Boolean);
const userinfoPath = cognito ? "/oauth2/userInfo" : "/me";
const authorizePath = cognito ? "/oauth2/authorize" : "/auth";
const tokenPath = cognito ? "/oauth2/token" : "/token";
const redirectUris = [env.REDIRECT_URI, ...extraRedirects];

const adapter = createMemoryAdapter(15); // 15 s: oidc-provider's default clockTolerance, as its default adapter uses

// OLD_REFRESH_TOKEN_VALID's counter: module scope, so a key reload does not restart it.
let refreshes = 0;

// One Provider with this key set and every knob above (constructed again on each key change: a reload).
function build(keySet) {
  const provider = new Provider(issuer, {
    ...(cognito ? {
      routes: { authorization: "/oauth2/authorize", token: "/oauth2/token", userinfo: "/oauth2/userInfo" },
      issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed("refresh_token"),
    } : {}),
    ...(env.REFRESH_TOKEN === "none" ? { issueRefreshToken: async () => false } : {}),
    adapter,
    clients: [{
      client_id: process.env.CLIENT_ID,
      client_secret: process.env.CLIENT_SECRET,
      redirect_uris: redirectUris,
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_basic",
    }],
    jwks: { keys: keySet.map((k) => k.jwk) },
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
          accessTokenFormat: env.ACCESS_TOKEN_FORMAT === "opaque" ? "opaque" : "jwt",
          jwt: { sign: { alg: "RS256" } },
        }),
      },
    },
    formats: {
      customizers: {
        jwt: async (_ctx, _token, jwt) => {
          const p = jwt.payload;
          if (cognito) {
            // Cognito access tokens carry no aud; oidc-provider refuses to sign one whose aud is missing, so hide it.
            Object.defineProperty(p, "aud", { value: p.aud, enumerable: false });
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
    rotateRefreshToken: env.ROTATE_REFRESH_TOKEN !== "false" && env.OLD_REFRESH_TOKEN_VALID !== "1",
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

  if (env.OFFLINE_ACCESS_WITHOUT_PROMPT === "1") {
    // Auth0 and Okta issue a refresh token for offline_access without prompt=consent; oidc-provider needs it.
    provider.use(async (ctx, next) => {
      const scope = String(ctx.query.scope || "").split(" ");
      if (ctx.path === authorizePath && scope.includes("offline_access") && !ctx.query.prompt) {
        ctx.query = { ...ctx.query, prompt: "consent" };
      }
      await next();
    });
  }

  if (env.STATE_GRANTED_SCOPE === "1") {
    provider.use(async (ctx, next) => {
      await next();
      const grant = ctx.oidc?.entities?.Grant;
      if (ctx.method === "POST" && ctx.path === tokenPath && grant && ctx.body && typeof ctx.body === "object"
          && ctx.body.access_token) {
        ctx.body = { ...ctx.body, scope: grant.getOIDCScope() };
      }
    });
  }

  if (env.REQUIRE_NONCE === "1") {
    // OIDC Core makes nonce optional for the code flow; some providers require it anyway. Only a request from the
    // registered client to a registered redirect URI is redirected back with the error (RFC 6749 4.1.2.1).
    provider.use(async (ctx, next) => {
      const q = ctx.query;
      const scope = String(q.scope || "").split(" ");
      const redirectUri = String(q.redirect_uri || "");
      if (ctx.method === "GET" && ctx.path === authorizePath && scope.includes("openid") && !q.nonce
          && q.client_id === env.CLIENT_ID && redirectUris.includes(redirectUri)) {
        const url = new URL(redirectUri);
        url.searchParams.set("error", "invalid_request");
        url.searchParams.set("error_description", "nonce required");
        if (q.state) url.searchParams.set("state", String(q.state));
        ctx.redirect(url.href);
        return;
      }
      await next();
    });
  }

  if (env.ID_TOKEN_NONCE) {
    provider.use(async (ctx, next) => {
      if (ctx.method === "GET" && ctx.path === authorizePath && ctx.query.nonce) {
        const q = { ...ctx.query };
        if (env.ID_TOKEN_NONCE === "drop") delete q.nonce;
        else q.nonce = env.ID_TOKEN_NONCE;
        ctx.query = q;
      }
      await next();
    });
  }

  if (env.REFRESH_OMITS_REFRESH_TOKEN === "1" || env.OLD_REFRESH_TOKEN_VALID === "1") {
    // The token request's form is read here (oidc-provider accepts an upstream-parsed body), so the answer to a
    // refresh can be edited. OLD_REFRESH_TOKEN_VALID: tokens do not rotate underneath; each refresh answers
    // "<token>~<n>", and "~<n>" is dropped again when such a token comes back.
    provider.use(async (ctx, next) => {
      if (ctx.method !== "POST" || ctx.path !== tokenPath || !ctx.is("application/x-www-form-urlencoded")) {
        return next();
      }
      const chunks = [];
      for await (const chunk of ctx.req) chunks.push(chunk);
      const form = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString()));
      const refresh = form.grant_type === "refresh_token";
      if (refresh && form.refresh_token) form.refresh_token = form.refresh_token.split("~")[0];
      ctx.request.body = form;
      await next();
      if (!refresh || !ctx.body || typeof ctx.body !== "object" || !ctx.body.refresh_token) return;
      if (env.REFRESH_OMITS_REFRESH_TOKEN === "1") {
        const { refresh_token: _omitted, ...rest } = ctx.body;
        ctx.body = rest;
      } else {
        refreshes += 1;
        ctx.body = { ...ctx.body, refresh_token: `${ctx.body.refresh_token}~${refreshes}` };
      }
    });
  }

  if (forcedSub) {
    // Whoever logs in, the account (and so the sub everywhere) is SUB: the login form's value is replaced
    // before oidc-provider reads it (it accepts an upstream-parsed body).
    provider.use(async (ctx, next) => {
      if (ctx.method === "POST" && ctx.path.startsWith("/interaction/") && ctx.is("application/x-www-form-urlencoded")) {
        const chunks = [];
        for await (const chunk of ctx.req) chunks.push(chunk);
        const form = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString()));
        if (form.prompt === "login") form.login = forcedSub;
        ctx.request.body = form;
      }
      await next();
    });
  }

  if (env.USERINFO_ACCEPTS_ACCESS_TOKEN === "1") {
    // The API's access token (with an audience) is accepted at userinfo, as Auth0 and Okta accept theirs.
    const subOf = async (token) => {
      const parts = token.split(".");
      if (parts.length === 3) {
        let kid;
        try { ({ kid } = JSON.parse(Buffer.from(parts[0], "base64url").toString())); } catch { return null; }
        const key = keySet.find((k) => k.kid === kid);
        const ok = key !== undefined && verify("sha256", Buffer.from(`${parts[0]}.${parts[1]}`),
          createPublicKey(key.privateKey), Buffer.from(parts[2], "base64url"));
        const p = ok ? JSON.parse(Buffer.from(parts[1], "base64url").toString()) : null;
        return p && p.iss === issuer && p.exp > Date.now() / 1000 ? (p.uid ?? p.sub) : null;
      }
      const at = await provider.AccessToken.find(token);
      return at && !at.isExpired ? at.accountId : null;
    };
    provider.use(async (ctx, next) => {
      if (ctx.path !== userinfoPath) return next();
      const [scheme, token] = String(ctx.get("authorization")).split(" ");
      const sub = scheme === "Bearer" && token ? await subOf(token) : null;
      ctx.set("Cache-Control", "no-store");
      if (!sub) {
        ctx.status = 401;
        ctx.set("WWW-Authenticate", 'Bearer error="invalid_token"');
        ctx.body = { error: "invalid_token" };
        return;
      }
      ctx.body = { sub };
    });
  }

  if (omitScopes.size || env.DISCOVERY_HTTP || env.JWKS_NO_KID === "1") {
    // Misconfigurations of the published documents (copies: the provider's own objects stay intact).
    provider.use(async (ctx, next) => {
      await next();
      if (ctx.path === "/.well-known/openid-configuration" && ctx.body) {
        const doc = { ...ctx.body };
        doc.scopes_supported = (doc.scopes_supported || []).filter((s) => !omitScopes.has(s));
        if (env.DISCOVERY_HTTP && doc[env.DISCOVERY_HTTP]) {
          doc[env.DISCOVERY_HTTP] = String(doc[env.DISCOVERY_HTTP]).replace(/^https:/, "http:");
        }
        ctx.body = doc;
      } else if (ctx.path === "/jwks" && ctx.body && env.JWKS_NO_KID === "1") {
        ctx.body = { keys: ctx.body.keys.map(({ kid: _kid, ...key }) => key) };
      }
    });
  }
  return provider;
}

// The request handler of the current Provider; a key change replaces it (requests already in flight finish on
// the Provider that accepted them).
let handle = build(keys).callback();

const reload = (keySet) => {
  keys = keySet;
  handle = build(keys).callback();
};

const keyState = () => ({ signing: keys[0].kid, published: keys.map((k) => k.kid) });

// The key-administration API (KEY_ADMIN_PORT): 127.0.0.1 only, JSON in and out, bounded request bodies.
function keyAdmin(req, res) {
  const reply = (status, body) => {
    res.writeHead(status, { "Content-Type": "application/json", "Cache-Control": "no-store" });
    res.end(JSON.stringify(body));
  };
  const chunks = [];
  let size = 0;
  req.on("data", (chunk) => {
    size += chunk.length;
    if (size > 4096) req.destroy();
    else chunks.push(chunk);
  });
  req.on("end", () => {
    const path = new URL(req.url, "http://127.0.0.1").pathname;
    const match = /^\/keys\/([A-Za-z0-9._-]{1,64})(\/sign)?$/.exec(path);
    const kid = match?.[1];
    const index = kid === undefined ? -1 : keys.findIndex((k) => k.kid === kid);
    if (path === "/keys" && req.method === "GET") return reply(200, keyState());
    if (path === "/keys" && req.method === "POST") {
      let wanted;
      try {
        wanted = chunks.length ? JSON.parse(Buffer.concat(chunks).toString()).kid : undefined;
      } catch {
        return reply(400, { error: "the body must be JSON: {\"kid\": \"...\"} or nothing" });
      }
      let n = keys.length + 1;
      while (keys.some((k) => k.kid === `test-rs256-${n}`)) n += 1;
      const added = wanted ?? `test-rs256-${n}`;
      if (typeof added !== "string" || !/^[A-Za-z0-9._-]{1,64}$/.test(added)) {
        return reply(400, { error: "kid must be 1-64 characters of A-Z a-z 0-9 . _ -" });
      }
      if (keys.some((k) => k.kid === added)) return reply(409, { error: `kid ${added} is already published` });
      reload([...keys, newKey(added)]);
      return reply(201, { kid: added, ...keyState() });
    }
    if (!match) return reply(404, { error: "unknown path: GET/POST /keys, POST /keys/<kid>/sign, DELETE /keys/<kid>" });
    if (index < 0) return reply(404, { error: `no published key has kid ${kid}` });
    if (match[2] && req.method === "POST") {
      reload([keys[index], ...keys.filter((_, i) => i !== index)]);
      return reply(200, keyState());
    }
    if (!match[2] && req.method === "DELETE") {
      if (index === 0) return reply(409, { error: `${kid} signs tokens: make another key sign first` });
      reload(keys.filter((_, i) => i !== index));
      return reply(200, keyState());
    }
    return reply(405, { error: "POST /keys/<kid>/sign or DELETE /keys/<kid>" });
  });
}

const onReady = () => process.stdout.write(`ready ${issuer}\n`);
const dispatch = (req, res) => handle(req, res);
const server = tls ? createServer(tls, dispatch) : createHttpServer(dispatch);
const admin = env.KEY_ADMIN_PORT ? createHttpServer(keyAdmin) : null;
const listen = () => server.listen(port, "127.0.0.1", onReady);
if (admin) admin.listen(Number(env.KEY_ADMIN_PORT), "127.0.0.1", listen);
else listen();
const stop = () => {
  if (admin) admin.close();
  server.close(() => process.exit(0));
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
