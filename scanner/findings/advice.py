"""What to do about a leaked credential, per rule: the one line a person follows to rotate or revoke it, and
the vendor's own documented page for it.

Why a registry and not a field in the rule files: the advice is the same for every rule of a vendor (one
GitHub settings page revokes ghp_, gho_ and github_pat_ alike), so it is kept once per vendor and found by the
rule id's first word (`github-token` -> `github`), with exact rule ids only where one credential type is
handled differently (Cloudflare's roll-able tokens against its Global API Key and Origin CA key). A rule added
without advice fails tests/test_remediation.py: a finding a person cannot act on is half a finding.

Every URL is a page of the vendor's own documentation that says where that credential is rotated or revoked.
Where no such page was found, `url` is None and `what` still says what to do: a guessed URL would send
someone in a hurry to a 404, or worse, to someone else's page.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Advice:
    """How to make a leaked credential useless. `what` is one line a person can follow; `url` the vendor's
    documented rotate/revoke page (None when no documented page is known); `also` further documented pages
    (e.g. a deprecation notice) that explain why the advice is what it is."""

    vendor: str
    what: str
    url: str | None = None
    also: tuple[str, ...] = ()


def _a(vendor: str, what: str, url: str | None = None, *also: str) -> Advice:
    return Advice(vendor, what, url, tuple(also))


_CF_ROLL = "https://developers.cloudflare.com/fundamentals/api/how-to/roll-token/"
_CF_TOKEN = _a("Cloudflare", "Roll the token at Cloudflare: My Profile > API Tokens (account tokens: Manage Account "
               "> API Tokens) > the token's ... menu > Roll > Confirm; the old secret stops working at once", _CF_ROLL)
_CF_GLOBAL = _a("Cloudflare", "Change the Global API Key at Cloudflare: My Profile > API Tokens > API Keys > Global "
                "API Key > Change (then move its users to scoped API tokens)",
                "https://developers.cloudflare.com/fundamentals/api/get-started/keys/")
_PRIVATE_KEY = _a("private key", "Treat the key pair as compromised: generate a new key pair, install the new public "
                  "key (or certificate) wherever the old one is trusted, and remove the old public key from "
                  "authorized_keys, deploy keys, CA/certificate issuers and key servers (revoke its certificate)")

# Exact rule ids: where one vendor's credential types are rotated differently.
EXACT: dict[str, Advice] = {
    "facebook-app-secret-url": _a("Meta", "Reset the app secret: App Dashboard > App settings > Basic > App secret > "
                                  "Reset; tokens the old secret minted stay valid until they expire, so audit them"),
    "vendor-jwt-api-key": _a("the vendor the line names", "Revoke the key in that vendor's API or developer settings "
                             "(AppFollow, Calendly, Form.io, Lemon Squeezy, Livestorm, monday.com, Stripo, "
                             "web3.storage), create a new one, and update everything that used it"),
    "gcp-adc-authorized-user": _a("Google", "Revoke the user's grant: `gcloud auth application-default revoke` on the "
                                  "machine that made it, or remove the app (Google Auth Library / gcloud) from the "
                                  "Google Account's third-party access page; then sign in again"),
    "stripe-test-key": _a("Stripe", "Roll the sandbox (test-mode) key: Dashboard in test mode > Developers > API keys > "
                          "the key's ... menu > Roll key (no live money is reachable, test data and webhooks are)",
                          "https://docs.stripe.com/keys-best-practices"),
    "kerberos-roastable-hash": _a("Kerberos (Active Directory)", "Reset the account's password to a long random "
                                  "one (a roasted hash cracks offline), give the account AES-only Kerberos and, for "
                                  "AS-REP, turn pre-authentication back on; find who ran the roasting and why"),
    "powershell-plaintext-securestring": _a("PowerShell", "Change the password where it is used, then read it "
                                            "at run time (a secret store, SecretManagement, an environment "
                                            "variable set by CI) instead of a literal in the script"),
    "cloudflare-user-api-token": _CF_TOKEN,
    "cloudflare-account-api-token": _CF_TOKEN,
    "cloudflare-api-token-legacy": _CF_TOKEN,
    "cloudflare-global-api-key": _CF_GLOBAL,
    "cloudflare-global-api-key-legacy": _CF_GLOBAL,
    "stripe-webhook-secret": _a("Stripe", "Roll the webhook endpoint's signing secret in the Stripe Dashboard "
                                "(Developers > Webhooks > the endpoint) and deploy the new secret"),
    "cloudflare-origin-ca-key": _a(
        "Cloudflare",
        "Remove the Origin CA key and use an API token: Cloudflare deprecated Service Key authentication "
        "(X-Auth-User-Service-Key), which stopped working on 2026-09-30; to invalidate every copy of the key, "
        "My Profile > API Tokens > API Keys > Origin CA Key > Change",
        "https://developers.cloudflare.com/changelog/post/2026-03-19-service-key-authentication-deprecated/",
        "https://developers.cloudflare.com/fundamentals/api/get-started/ca-keys/"),
    "private-key": _PRIVATE_KEY,
    "azure-identifiable-key": _a("Azure", "Regenerate the key in the service it names (the 4 characters before the "
                                 "last 6: +ASt storage account > Access keys > Rotate key; +ASb/+AEh/+ARm the shared "
                                 "access policy > Regenerate; AzFu the function app > App keys; AzSe search service > "
                                 "Keys; +ACR registry > Access keys; APIM subscription > Regenerate; AzCa cache > "
                                 "Access keys), then update everything that used it",
                                 "https://learn.microsoft.com/azure/storage/common/storage-account-keys-manage"),
    "sourcegraph-license-key": _a("Sourcegraph", "Ask Sourcegraph (your account team) to revoke the license key and "
                                  "issue a new one; put the new key in the site configuration's licenseKey"),
    "dependency-track-api-key": _a("Dependency-Track", "Regenerate or delete the key: Administration > Access "
                                   "Management > Teams > the team > API Keys (the old key stops working at once)",
                                   "https://docs.dependencytrack.org/integrations/rest-api/"),
    "ubidots-token": _a("Ubidots", "Delete the token and create a new one: account menu > API Credentials > Tokens",
                        "https://docs.ubidots.com/reference/authentication"),
    "voiceflow-api-key": _a("Voiceflow", "Regenerate the key in the project's (or workspace's) Integrations > API keys"
                            "; the old key stops working", "https://docs.voiceflow.com/reference/authentication"),
}

# By vendor: the rule id's first word (`github-fine-grained-pat` -> `github`).
VENDORS: dict[str, Advice] = {
    "zapier": _a("Zapier", "Turn the Zap off, then replace its Catch Hook trigger (a new trigger step gets a new URL) and "
                 "update every sender; the old URL keeps working while the trigger exists"),
    "dockerswarm": _a("Docker Swarm", "On a manager, rotate it: `docker swarm join-token --rotate worker` (and manager) for a "
                      "join token, `docker swarm unlock-key --rotate` for an unlock key; nodes already joined stay joined",
                      "https://docs.docker.com/reference/cli/docker/swarm/join-token/"),
    "amazonmws": _a("Amazon MWS", "Revoke the developer's authorization: Seller Central > Settings > User Permissions "
                    "> Third-party developer and apps > the developer > Revoke; authorize again for a new token"),
    "openshift": _a("OpenShift", "Delete the token: `oc delete oauthaccesstoken <name>` (the name is sha256~ and the token's "
                    "hash; `oc get useroauthaccesstokens` lists a user's own), or log that session out"),
    "cockroachdb": _a("CockroachDB Cloud", "Delete the API key: Cloud Console > Organization > Access Management > "
                      "Service Accounts > the account > API Keys > Delete, then create a new key for its users"),
    "mongodb": _a("MongoDB Atlas", "Revoke the service-account secret: Atlas > Organization (or Project) Access Manager > "
                  "Applications > Service Accounts > the account > delete the secret, after generating a new one"),
    "facebook": _a("Meta", "Invalidate the token: a user token by removing the app from the user's Business "
                   "Integrations / Apps settings or changing the password; a page or system-user token by "
                   "regenerating it in Business Manager; then audit the app's activity"),
    "cloudflare": _CF_TOKEN,
    "private": _PRIVATE_KEY,
    "pgp": _a("OpenPGP", "Revoke the key: publish its revocation certificate (gpg --gen-revoke, then send it to the "
              "key servers and people who hold the public key), and create a new key"),
    "putty": _PRIVATE_KEY,
    "age": _a("age", "Generate a new identity (age-keygen), re-encrypt every file encrypted to the old recipient, "
              "and remove the old recipient everywhere (e.g. .sops.yaml): whoever holds the old key can decrypt "
              "every copy ever made of those files"),
    "http": _a("HTTP basic auth", "Change the password of the account in the URL at the service it logs in to, and "
               "take credentials out of URLs (use the client's credential store or a secrets manager)"),
    "database": _a("database", "Change the database user's password (ALTER USER ... PASSWORD / the provider's "
                   "console), update every client, and check the server's logs for logins you do not expect"),
    "github": _a("GitHub", "Revoke the token at GitHub: Settings > Developer settings > Personal access tokens > "
                 "the token > Delete (OAuth/app tokens: revoke the authorization or reset the app's credentials)",
                 "https://docs.github.com/en/authentication/keeping-your-account-and-data-secure/"
                 "managing-your-personal-access-tokens"),
    "gitlab": _a("GitLab", "Revoke or rotate the token at GitLab: avatar > Edit profile > Personal access tokens "
                 "(project/group tokens: Settings > Access tokens; deploy and runner tokens: their settings pages) "
                 "> Revoke or Rotate", "https://docs.gitlab.com/user/profile/personal_access_tokens/",
                 "https://docs.gitlab.com/ee/security/token_overview.html"),
    "slack": _a("Slack", "Revoke the token (auth.revoke, or reinstall/regenerate it in the app's settings at "
                "api.slack.com/apps); a webhook URL: remove the webhook from the app's Incoming Webhooks page",
                "https://api.slack.com/methods/auth.revoke"),
    "aws": _a("AWS", "Deactivate, then delete the access key: IAM console > Users > the user > Security credentials > "
              "Access keys > Actions > Deactivate, then Delete (create a new key first if it is still needed)",
              "https://docs.aws.amazon.com/IAM/latest/UserGuide/access-keys-admin-managed.html"),
    "stripe": _a("Stripe", "Roll the key at Stripe: Dashboard > Developers > API keys > the key's ... menu > Roll key, "
                 "expiring the old key now", "https://docs.stripe.com/keys-best-practices"),
    "npm": _a("npm", "Revoke the token at npm: profile picture > Access Tokens > delete it (or `npm token revoke ID`)",
              "https://docs.npmjs.com/revoking-access-tokens"),
    "pypi": _a("PyPI", "Remove the token at PyPI: Account settings > API tokens > Options > Remove token; check the "
               "account's Security history for uploads you did not make", "https://pypi.org/help/#apitoken"),
    "google": _a("Google", "Delete (or regenerate) the key in the Google Cloud console: APIs & Services > Credentials; "
                 "an OAuth client secret: reset it on the same page; OAuth tokens: revoke the grant",
                 "https://docs.cloud.google.com/docs/authentication/api-keys"),
    "gcp": _a("Google Cloud", "Disable, then delete the service account key: IAM & Admin > Service accounts > the "
              "account > Keys (gcloud iam service-accounts keys disable KEY_ID --iam-account=ACCOUNT)",
              "https://cloud.google.com/iam/docs/keys-disable-enable"),
    "openai": _a("OpenAI", "Revoke the key at OpenAI: platform.openai.com/api-keys > the key's trash icon > Revoke key; "
                 "then create a new one", "https://help.openai.com/en/articles/8304786-how-can-i-keep-my-openai-accounts-secure"),
    "anthropic": _a("Anthropic", "Delete the key in the Claude Console: API keys > the key's ... menu > Delete API Key; "
                    "then create a new one",
                    "https://support.anthropic.com/en/articles/"
                    "8384961-what-should-i-do-if-i-suspect-my-api-key-has-been-compromised"),
    "huggingface": _a("Hugging Face", "Invalidate the token at Hugging Face: Settings > Access Tokens > the token's "
                      "Manage > Invalidate and refresh (or delete it)", "https://huggingface.co/docs/hub/security-tokens"),
    "sendgrid": _a("SendGrid", "Delete the API key in SendGrid: Settings > API Keys > the key > Delete; create a new one "
                   "and update your environment", "https://twilio.com/docs/sendgrid/for-developers/sending-email/authentication"),
    "resend": _a("Resend", "Delete the API key in the Resend dashboard (API Keys): deleting revokes it at once; "
                 "then review what was sent with it", "https://resend.com/docs/knowledge-base/how-to-handle-a-leaked-api-key"),
    "replicate": _a("Replicate", "Disable the token at replicate.com/account/api-tokens and create a new one",
                    "https://replicate.com/changelog/2024-06-04-disable-api-tokens"),
    "sourcegraph": _a("Sourcegraph", "Delete the token: avatar > Settings > Access tokens > Delete",
                      "https://sourcegraph.com/docs/cli/how-tos/revoking_an_access_token"),
    "digitalocean": _a("DigitalOcean", "Delete the token in the DigitalOcean control panel: API > Tokens/Keys > "
                       "Personal access tokens > the token's More menu > Delete",
                       "https://docs.digitalocean.com/reference/api/create-personal-access-token/"),
    "shopify": _a("Shopify", "An admin-created custom app's Admin API token cannot be rolled in place: uninstall the "
                  "app in the store admin (Apps > Develop apps) and install it again for a new token; app client "
                  "secrets: rotate or revoke them in the Dev Dashboard",
                  "https://shopify.dev/docs/apps/build/authentication-authorization/legacy/admin-custom-apps",
                  "https://shopify.dev/docs/apps/build/authentication-authorization/client-secrets/"
                  "rotate-revoke-client-credentials"),
    "datadog": _a("Datadog", "Revoke the key in Datadog: Organization Settings > API Keys (or Application Keys) > the "
                  "key > Revoke; create a new one for the agents and scripts that used it",
                  "https://docs.datadoghq.com/account_management/api-app-keys/"),
    "docker": _a("Docker Hub", "Delete (or deactivate) the access token: Docker account > Account settings > Personal "
                 "access tokens (organization tokens: the Admin Console)",
                 "https://docs.docker.com/security/for-developers/access-tokens/"),
    "vercel": _a("Vercel", "Delete the token on the Account Tokens page (Settings > Tokens) or with `vercel tokens rm`",
                 "https://vercel.com/docs/accounts/access-tokens"),
    "atlassian": _a("Atlassian", "Revoke the token: Atlassian account > Security > Create and manage API tokens > "
                    "Revoke (organization admins: Atlassian Administration > Insights > API token activity)",
                    "https://support.atlassian.com/atlassian-account/docs/manage-api-tokens-for-your-atlassian-account",
                    "https://support.atlassian.com/organization-administration/docs/revoke-user-api-tokens/"),
    "bitbucket": _a("Bitbucket", "Revoke the app password: Bitbucket Personal settings > App passwords > Revoke, and "
                    "move the integration to an API token"),
    "buildkite": _a("Buildkite", "Revoke the token in Buildkite (API access tokens: Personal Settings > API Access "
                    "Tokens; agent tokens: the cluster's agent tokens page) and create a new one",
                    "https://buildkite.com/changelog/66-inspect-and-revoke-api-access-tokens-via-the-rest-api"),
    "heroku": _a("Heroku", "Regenerate the API key (Account settings > API Key > Regenerate), or revoke the OAuth "
                 "authorization that holds the token: `heroku authorizations` then `heroku authorizations:revoke ID`"),
    "azure": _a("Azure", "Regenerate the key: storage account > Security + networking > Access keys > Rotate key "
                "(Service Bus / Event Hubs: the shared access policy > Regenerate; an app's client secret: Microsoft "
                "Entra ID > App registrations > the app > Certificates & secrets > delete it)",
                "https://learn.microsoft.com/azure/storage/common/storage-account-keys-manage"),
    "twilio": _a("Twilio", "Delete the API key in the Twilio Console (Account > API keys & tokens); an Auth Token: "
                 "request a secondary token, promote it to primary, and the old one stops working",
                 "https://twilio.com/blog/better-twilio-authentication-csharp-twilio-api-keys"),
    "telegram": _a("Telegram", "Revoke the bot token with @BotFather (/revoke, then choose the bot) and use the new "
                   "token it gives"),
    "discord": _a("Discord", "Bot token: Developer Portal > the application > Bot > Reset Token; webhook URL: delete "
                  "the webhook (channel settings > Integrations > Webhooks) and create a new one"),
    "vault": _a("HashiCorp Vault", "Revoke the token and its children: `vault token revoke TOKEN` (or by accessor: "
                "`vault token revoke -accessor ACCESSOR`); leases it created are revoked with it",
                "https://developer.hashicorp.com/vault/docs/commands/token/revoke"),
    "terraform": _a("HashiCorp Terraform", "Delete the API token in HCP Terraform / Terraform Enterprise (user tokens: "
                    "User Settings > Tokens; team and organization tokens: the organization's settings) and create "
                    "a new one"),
    "sentry": _a("Sentry", "Revoke the token: organization tokens in Settings > Organization Tokens (or the revoke "
                 "API); user tokens in User Settings > Personal Tokens",
                 "https://docs.sentry.io/api/organizations/revoke-an-org-auth-token/"),
    "okta": _a("Okta", "Revoke the API token: Admin Console > Security > API > Tokens > the token > Revoke",
               "https://help.okta.com/oie/en-us/content/topics/security/api.htm"),
    "databricks": _a("Databricks", "Revoke the personal access token: User Settings > Developer > Access tokens > "
                     "revoke it (workspace admins can revoke any user's tokens)",
                     "https://docs.databricks.com/administration-guide/access-control/tokens.html"),
    "jfrog": _a("JFrog", "Revoke the access token in the JFrog Platform (Administration > User Management > Access "
                "Tokens > Revoke; an API key or identity token: the user's profile) and create a new one"),
    "netlify": _a("Netlify", "Delete the personal access token: User settings > Applications > Personal access "
                  "tokens > Options > Delete", "https://docs.netlify.com/accounts-and-billing/user-settings/"),
    "tailscale": _a("Tailscale", "Revoke the key: admin console > Settings > Keys > Revoke next to the auth key or API "
                    "access token", "https://tailscale.com/kb/1252/key-secret-management"),
    "circleci": _a("CircleCI", "Delete the token (personal: User settings > Personal API Tokens > X; project: Project "
                   "Settings > API Permissions) and create a new one",
                   "https://circleci.com/docs/managing-api-tokens/"),
    "supabase": _a("Supabase", "Revoke the access token in the Supabase dashboard (Account > Access Tokens); a "
                   "project secret API key: delete or rotate it in the project's API Keys settings"),
    "rubygems": _a("RubyGems", "Delete the key at RubyGems.org: account settings > API KEYS (Reset deletes every key "
                   "of the account); then create a scoped replacement", "https://guides.rubygems.org/api-key-scopes/"),
    "linear": _a("Linear", "Revoke the key: Settings > Security & Access > Personal API keys (OAuth tokens: revoke the "
                 "authorized application on the same page)", "https://linear.app/docs/security-and-access"),
    "teams": _a("Microsoft Teams", "Remove the incoming webhook (or the Workflows flow that owns the URL) from the "
                "channel and create a new one: anyone with the URL can post to the channel"),
    "langfuse": _a("Langfuse", "Create a new key pair (Project Settings > API Keys > Create new API keys), move the "
                   "application to it, then delete the leaked key: deleting it invalidates it at once",
                   "https://langfuse.com/faq/all/lost-secret-key"),
    "auth0": _a("Auth0", "Rotate the application's client secret in the Auth0 Dashboard (Applications > the "
                "application > Settings > Rotate) and deploy the new secret"),
    "snyk": _a("Snyk", "Revoke & Regenerate the token in Snyk: Account settings (app.snyk.io/account) > Revoke & "
               "Regenerate", "https://docs.snyk.io/snyk-api/authentication-for-api/revoke-and-regenerate-a-snyk-api-token"),
}


# Vendors whose rotate/revoke page tokenscan does not cite (yet): the generic instruction, no URL.
_GENERIC_NAMES: dict[str, str] = {
    "airtable": "Airtable",
    "algolia": "Algolia",
    "anthropic": "Anthropic",
    "asana": "Asana",
    "atlassian": "Atlassian",
    "aws": "AWS",
    "azure": "Azure",
    "bitbucket": "Bitbucket",
    "braintree": "Braintree",
    "brevo": "Brevo",
    "buildkite": "Buildkite",
    "circleci": "CircleCI",
    "clickup": "ClickUp",
    "cloudinary": "Cloudinary",
    "cohere": "Cohere",
    "contentful": "Contentful",
    "databricks": "Databricks",
    "datadog": "Datadog",
    "digitalocean": "DigitalOcean",
    "discord": "Discord",
    "docker": "Docker Hub",
    "doppler": "Doppler",
    "dropbox": "Dropbox",
    "duffel": "Duffel",
    "dynatrace": "Dynatrace",
    "easypost": "EasyPost",
    "figma": "Figma",
    "flutterwave": "Flutterwave",
    "flyio": "Fly.io",
    "frameio": "Frame.io",
    "gcp": "Google Cloud",
    "google": "Google",
    "grafana": "Grafana",
    "groq": "Groq",
    "heroku": "Heroku",
    "huggingface": "Hugging Face",
    "infracost": "Infracost",
    "jfrog": "JFrog",
    "langsmith": "LangSmith",
    "linear": "Linear",
    "lob": "Lob",
    "mailchimp": "Mailchimp",
    "mailgun": "Mailgun",
    "mapbox": "Mapbox",
    "mistral": "Mistral AI",
    "netlify": "Netlify",
    "newrelic": "New Relic",
    "notion": "Notion",
    "npm": "npm",
    "nuget": "NuGet",
    "okta": "Okta",
    "onepassword": "1Password",
    "openai": "OpenAI",
    "openrouter": "OpenRouter",
    "perplexity": "Perplexity",
    "pinecone": "Pinecone",
    "planetscale": "PlanetScale",
    "postman": "Postman",
    "prefect": "Prefect",
    "pulumi": "Pulumi",
    "pypi": "PyPI",
    "railway": "Railway",
    "readme": "ReadMe",
    "render": "Render",
    "replicate": "Replicate",
    "resend": "Resend",
    "rubygems": "RubyGems",
    "scalingo": "Scalingo",
    "sendgrid": "SendGrid",
    "sentry": "Sentry",
    "shippo": "Shippo",
    "shopify": "Shopify",
    "slack": "Slack",
    "snyk": "Snyk",
    "sourcegraph": "Sourcegraph",
    "square": "Square",
    "stripe": "Stripe",
    "supabase": "Supabase",
    "tailscale": "Tailscale",
    "telegram": "Telegram",
    "terraform": "HashiCorp Terraform",
    "twilio": "Twilio",
    "twitch": "Twitch",
    "vault": "HashiCorp Vault",
    "vercel": "Vercel",
    "xai": "xAI",
    "wandb": "Weights & Biases",
    "auth0": "Auth0",
    "clojars": "Clojars",
    "codecov": "Codecov",
    "crates": "crates.io",
    "dbt": "dbt Cloud",
    "deepseek": "DeepSeek",
    "elevenlabs": "ElevenLabs",
    "fastly": "Fastly",
    "harness": "Harness",
    "hetzner": "Hetzner Cloud",
    "linode": "Linode (Akamai)",
    "mandrill": "Mandrill (Mailchimp Transactional)",
    "paystack": "Paystack",
    "plaid": "Plaid",
    "postmark": "Postmark",
    "rollbar": "Rollbar",
    "scaleway": "Scaleway",
    "sonar": "SonarQube / SonarCloud",
    "splunk": "Splunk",
    "trello": "Trello",
    "typeform": "Typeform",
    "zendesk": "Zendesk",
    "twitter": "X (Twitter)",
    "tencent": "Tencent Cloud",
    "ngrok": "ngrok",
    "launchdarkly": "LaunchDarkly",
    "kaggle": "Kaggle",
    "hubspot": "HubSpot",
    "firebase": "Firebase",
    "alibaba": "Alibaba Cloud",
    "adafruit": "Adafruit IO",
    "apify": "Apify",
    "rootly": "Rootly",
    "wakatime": "WakaTime",
    "nvidia": "NVIDIA (build.nvidia.com / NGC)",
    "yandex": "Yandex Cloud",
    "posthog": "PostHog",
    "scrapfly": "Scrapfly",
    "segment": "Segment",
    "stackhawk": "StackHawk",
    "zoho": "Zoho",
    "teamwork": "Teamwork",
    "ionic": "Ionic Appflow",
    "adobe": "Adobe Developer Console",
    "aikido": "Aikido Security",
    "alchemy": "Alchemy",
    "blynk": "Blynk",
    "braintrust": "Braintrust",
    "brave": "Brave Search API",
    "canva": "Canva Developers",
    "configcat": "ConfigCat",
    "deno": "Deno Deploy",
    "devin": "Devin",
    "flexport": "Flexport",
    "gocardless": "GoCardless",
    "octopus": "Octopus Deploy",
    "pagarme": "Pagar.me",
    "photoroom": "Photoroom",
    "robinhood": "Robinhood",
    "saladcloud": "SaladCloud",
    "spectralops": "SpectralOps",
    "telnyx": "Telnyx",
    "workos": "WorkOS",
    "zuplo": "Zuplo",
    "checkout": "Checkout.com",
    "clickhouse": "ClickHouse Cloud",
    "cloudsmith": "Cloudsmith",
    "courier": "Courier",
    "datagov": "api.data.gov",
    "dfuse": "dfuse / StreamingFast",
    "intra42": "42 intra (OAuth applications)",
    "thingsboard": "ThingsBoard (the device's credentials)",
    "tickettailor": "Ticket Tailor",
    "zhipu": "Z.ai / Zhipu AI",
    "asaas": "Asaas",
    "cerebras": "Cerebras",
    "cfxre": "Cfx.re Keymaster (FiveM / RedM)",
    "cursor": "Cursor",
    "datastax": "DataStax Astra",
    "devcycle": "DevCycle",
    "elastic": "Elastic Cloud",
    "endorlabs": "Endor Labs",
    "exoscale": "Exoscale IAM",
    "lichess": "Lichess",
    "mailersend": "MailerSend",
    "mercury": "Mercury",
    "mergify": "Mergify",
    "onesignal": "OneSignal",
    "persona": "Persona",
    "pinterest": "Pinterest Developers",
    "polar": "Polar",
    "redirectpizza": "redirect.pizza",
    "runpod": "RunPod",
    "samsara": "Samsara",
    "settlemint": "SettleMint",
    "thunderstore": "Thunderstore",
    "togetherai": "Together AI",
    "unkey": "Unkey",
    "upcloud": "UpCloud",
    "valtown": "Val Town",
    "definednetworking": "Defined Networking",
    "besttime": "BestTime",
    "maxmind": "MaxMind",
    "fleetbase": "Fleetbase",
    "firecrawl": "Firecrawl",
    "jina": "Jina AI",
    "tavily": "Tavily",
    "klaviyo": "Klaviyo",
    "nightfall": "Nightfall AI",
    "pubnub": "PubNub",
}
for _key, _name in _GENERIC_NAMES.items():
    VENDORS.setdefault(_key, _a(_name, f"Revoke (delete) the credential in your {_name} account's API key / token "
                                       f"settings, create a new one, and update everything that used it"))


def vendor_of(rule_id: str) -> str:
    """The registry's vendor key for a rule id: its first word (`slack-bot-token` -> `slack`)."""
    return rule_id.split("-", 1)[0].lower()


def advice(rule_id: str) -> Advice | None:
    """The advice for a rule: its own entry, else its vendor's (the rule id's first word), else None (a rule
    from a user's own rule file or gitleaks config, whose vendor tokenscan does not know)."""
    return EXACT.get(rule_id) or VENDORS.get(vendor_of(rule_id))


def advice_line(rule_id: str) -> str:
    """One line for reports: what to do, and the vendor's page when there is one."""
    a = advice(rule_id)
    if a is None:
        return "Revoke or rotate it where it was issued (tokenscan has no advice for this rule)"
    return f"{a.what} ({a.url})" if a.url else a.what
