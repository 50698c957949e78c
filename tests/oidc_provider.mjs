// A real OpenID Connect provider for the tests: the `oidc-provider` npm package (a certified
// implementation), standing in for Kakao, Naver, Google, X and Facebook at once.
//
// tests/oidc.py copies this file next to its node_modules and starts it with OIDC_CONFIG
// (JSON: port, clients). One client per stand-in provider; Kakao and Google use the OpenID
// Connect endpoints as they are; Naver, X and Facebook get their profile endpoint in their
// own answer shape (/naver/me, /x/me, /facebook/me), checked against the provider's tokens.
//
// Test-only controls (never part of a real provider):
//   POST /_test/next    {"account": "alice"} or {"deny": true}: who the next interaction
//                        signs in as, or that the person cancels (error=access_denied).
//   POST /_test/tamper  {"aud": …, "nonce": …, "exp": …}: the next token response carries
//                        an ID token with these claims changed, signed with the provider's
//                        own key, since the provider cannot misbehave on its own.
import { createServer } from 'node:http';
import Provider from 'oidc-provider';
import * as jose from 'jose';

const config = JSON.parse(process.env.OIDC_CONFIG);
const issuer = `http://127.0.0.1:${config.port}`;
const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
const jwk = { ...(await jose.exportJWK(privateKey)), kid: 'test-key', alg: 'RS256', use: 'sig' };
const signingKey = await jose.importJWK(jwk, 'RS256');

const control = { next: { account: 'alice' }, tamper: null };

const provider = new Provider(issuer, {
  clients: config.clients,
  jwks: { keys: [jwk] },
  findAccount: async (ctx, id) => ({
    accountId: id,
    async claims() {
      return { sub: id, nickname: `${id}-nick`, name: `Real ${id}` };
    },
  }),
  claims: { openid: ['sub'], profile: ['name', 'nickname'], profile_nickname: ['nickname'] },
  scopes: ['openid', 'profile', 'profile_nickname', 'users.read', 'tweet.read',
    'public_profile'],
  conformIdTokenClaims: false, // claims in the ID token, as Kakao and Google send them
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  cookies: { keys: ['oidc-test-cookie-key'] },
  ttl: { Session: 600, Interaction: 600, Grant: 600, AuthorizationCode: 60,
    AccessToken: 600, IdToken: 600 },
});

provider.use(async (ctx, next) => {
  await next();
  const tamper = control.tamper;
  if (ctx.path === '/token' && tamper && ctx.body && ctx.body.id_token) {
    control.tamper = null;
    const claims = jose.decodeJwt(ctx.body.id_token);
    Object.assign(claims, tamper);
    if (tamper.exp !== undefined) claims.iat = tamper.exp - 600;
    ctx.body = { ...ctx.body, id_token: await new jose.SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: jwk.kid }).sign(signingKey) };
  }
});

async function body(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : {};
}

function json(res, status, value) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
}

const shapes = {
  '/naver/me': (id) => ({ resultcode: '00', message: 'success',
    response: { id, nickname: `${id}-nick` } }),
  '/x/me': (id) => ({ data: { id, name: `Real ${id}`, username: `${id}_x` } }),
  '/facebook/me': (id) => ({ id, name: `Real ${id}` }),
};

async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const next = control.next;
  let result;
  if (next.deny) {
    result = { error: 'access_denied', error_description: 'End-User cancelled' };
  } else if (details.prompt.name === 'login') {
    result = { login: { accountId: next.account } };
  } else {
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: details.session.accountId,
        clientId: details.params.client_id });
    const missing = details.prompt.details;
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes || {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    result = { consent: { grantId: await grant.save() } };
  }
  await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
}

const callback = provider.callback();
createServer(async (req, res) => {
  try {
    const url = new URL(req.url, issuer);
    if (req.method === 'POST' && url.pathname === '/_test/next') {
      control.next = await body(req);
      return json(res, 200, { ok: true });
    }
    if (req.method === 'POST' && url.pathname === '/_test/tamper') {
      control.tamper = await body(req);
      return json(res, 200, { ok: true });
    }
    if (url.pathname.startsWith('/interaction/')) return await interaction(req, res);
    if (url.pathname === '/auth' && !url.searchParams.get('scope')) {
      // Naver takes no scope (what is shared is set in its developer console); this
      // provider grants nothing without one, so the stand-in grants `profile`.
      url.searchParams.set('scope', 'profile');
      req.url = url.pathname + url.search;
    }
    if (shapes[url.pathname]) {
      const auth = req.headers.authorization || '';
      const token = auth.startsWith('Bearer ') ? auth.slice(7) : '';
      const found = token && await provider.AccessToken.find(token);
      if (!found) return json(res, 401, { error: 'invalid_token' });
      return json(res, 200, shapes[url.pathname](found.accountId));
    }
    return callback(req, res);
  } catch (err) {
    console.error(err);
    return json(res, 500, { error: 'server_error', message: String(err) });
  }
}).listen(config.port, '127.0.0.1', () => console.log(`ready ${issuer}`));
