// A real OpenID Connect provider for tracklib's sign-in tests, on 127.0.0.1 only.
// Test-only: fixed keys, devInteractions (a login form that takes the email as the login and
// any password), and only the accounts named in OIDC_USERS. Started by tests/e2e/test_sign_in.py.
//
// Environment: OIDC_PORT, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_REDIRECT_URI (the dashboard's
// http://127.0.0.1:<port>/oauth2callback), OIDC_USERS (comma-separated emails).
import { Provider } from "oidc-provider";

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

const port = Number(env("OIDC_PORT"));
const users = new Set(env("OIDC_USERS").split(",").map((email) => email.trim()).filter(Boolean));

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [
    {
      client_id: env("OIDC_CLIENT_ID"),
      client_secret: env("OIDC_CLIENT_SECRET"),
      redirect_uris: [env("OIDC_REDIRECT_URI")],
      post_logout_redirect_uris: [env("OIDC_REDIRECT_URI")],
      response_types: ["code"],
      grant_types: ["authorization_code"],
    },
  ],
  claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
  // The login typed into the dev form is the account id; unknown emails get no account.
  async findAccount(ctx, sub) {
    if (!users.has(sub)) return undefined;
    return {
      accountId: sub,
      async claims() {
        return { sub, email: sub, email_verified: true, name: sub.split("@")[0] };
      },
    };
  },
  // Streamlit reads the user from the ID token: put the scope's claims (email) there too.
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ["tracklib-test-only-cookie-key"] },
});

provider.listen(port, "127.0.0.1", () => {
  console.log(`oidc-provider listening on http://127.0.0.1:${port}`);
});
