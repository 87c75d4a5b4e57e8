"""Legacy (unprefixed) Cloudflare credentials under every name family and assignment syntax, held-out style.

The tables are the acceptance test of the context model (scanner/rules/context.py): every syntax x three name
families (`cloudflare*`, `CF_*`, `cf` + CamelCase) x {token, key} must be found with the rule the VALUE'S
SHAPE decides; look-alikes (commit ids, UUIDs, lock-file hashes, identifiers, placeholders, Cloudflare's
documentation examples, other vendors' names) must stay silent. Both prefilter paths must agree.
"""

from __future__ import annotations

import pytest
from clirun import ROOT
from tokens import legacy_key, legacy_token

from scanner.engine.matcher import Engine
from scanner.engine.prefilter import HYPERSCAN_AVAILABLE
from scanner.rules.loader import load_rules

PATHS = [False] + ([True] if HYPERSCAN_AVAILABLE else [])
TOKEN_RULE, KEY_RULE = "cloudflare-api-token-legacy", "cloudflare-global-api-key-legacy"

# (syntax, template): the 26 gitleaks generic syntax templates and the other common ones.
SYNTAXES = [
    ("ini", "{name}={value}"),
    ("ini-spaced", "{name} = {value}"),
    ("ini-quoted", "{name} = '{value}'"),
    ("json", '{{"{name}": "{value}"}}'),
    ("json-nested-line", '{{"deploy": {{"{name}": "{value}", "zone": "example.com"}}}}'),
    ("xml-element", "<{name}>{value}</{name}>"),
    ("xml-multiline", "<config>\n  <{name}>\n    {value}\n  </{name}>\n</config>\n"),
    ("xml-attribute", '<add key="{name}" value="{value}" />'),
    ("yaml", "{name}: {value}"),
    ("yaml-quoted", "{name}: \"{value}\""),
    ("yaml-nested", "deploy:\n  stage: prod\n  {name}: '{value}'\n"),
    ("yaml-block-scalar", "{name}: |\n  {value}\n"),
    ("csharp", 'private const string {name} = "{value}";'),
    ("go-normal", 'var {name} string = "{value}"'),
    ("go-short", '{name} := "{value}"'),
    ("go-backtick", "{name} := `{value}`"),
    ("go-setenv", 'os.Setenv("{name}", "{value}")'),
    ("java", 'public static final String {name} = "{value}";'),
    ("kotlin", 'val {name}: String = "{value}"'),
    ("php", '${name} = "{value}";'),
    ("php-append", '${name} .= "{value}";'),
    ("php-array", "'{name}' => '{value}',"),
    ("python", '{name} = "{value}"'),
    ("python-annotated", '{name}: str = "{value}"'),
    ("python-environ", 'os.environ["{name}"] = "{value}"'),
    ("python-kwarg", 'Client({name}="{value}")'),
    ("system-setproperty", 'System.setProperty("{name}", "{value}");'),
    ("logstash", '{name} => "{value}"'),
    ("make-recursive", "{name} = {value}"),
    ("make-simple", "{name} := {value}"),
    ("make-posix", "{name} ::= {value}"),
    ("make-immediate", "{name} :::= {value}"),
    ("make-conditional", "{name} ?= {value}"),
    ("make-append", "{name} += {value}"),
    ("shell-export", 'export {name}="{value}"'),
    ("shell-inline", "{name}={value} ./deploy.sh"),
    ("powershell-env", '$env:{name} = "{value}"'),
    ("windows-set", "set {name}={value}"),
    ("dotenv", "APP_ENV=production\n{name}='{value}'\nLOG_LEVEL=debug\n"),
    ("dockerfile-env-space", "FROM alpine\nENV {name} {value}\n"),
    ("dockerfile-env-equals", "FROM alpine\nENV {name}={value}\n"),
    ("compose-list", "services:\n  app:\n    environment:\n      - {name}={value}\n"),
    ("compose-map", "services:\n  app:\n    environment:\n      {name}: {value}\n"),
    ("kubernetes-env", "spec:\n  containers:\n    - env:\n        - name: {name}\n          value: \"{value}\"\n"),
    ("kubernetes-json", '{{"name": "{name}", "value": "{value}"}}'),
    ("terraform-variable", 'variable "{name}" {{\n  type    = string\n  default = "{value}"\n}}\n'),
    ("tfvars", '{name} = "{value}"'),
    ("github-actions-env", "jobs:\n  deploy:\n    env:\n      {name}: {value}\n    steps:\n      - run: make\n"),
    ("javascript", "const {name} = '{value}';"),
    ("javascript-object", "module.exports = {{ {name}: '{value}' }};"),
    ("ruby", '{name} = "{value}"'),
    ("toml", '{name} = "{value}"'),
    ("cli-flag", "deploy --{name} {value}"),
    ("cli-flag-equals", "deploy --{name}={value}"),
    ("url-query", "https://hooks.example.com/deploy?{name}={value}&zone=1"),
    ("rust-const", 'const {name}: &str = "{value}";'),
    ("typescript", 'const {name}: string = "{value}";'),
    ("c-define", '#define {name} "{value}"'),
    ("ruby-env", "ENV['{name}'] = '{value}'"),
    ("json-escaped", '"{{\\"{name}\\":\\"{value}\\"}}"'),
    ("html-input", '<input type="hidden" name="{name}" value="{value}">'),
    ("spring-placeholder", '@Value("${{{name}:{value}}}")'),
    ("terraform-var-flag", 'terraform apply -var="{name}={value}"'),
    ("github-env-file", 'echo "{name}={value}" >> "$GITHUB_ENV"'),
]

NAME_FAMILIES = {
    "cloudflare*": ["CLOUDFLARE_API_TOKEN", "cloudflare_api_key", "cloudflareApiToken"],
    "CF_*": ["CF_API_TOKEN", "CF_AUTH_KEY", "CF_API_KEY"],
    "cf+CamelCase": ["cfToken", "cfApiKey", "cfApiToken"],
}

# Blocks, headers and commands that name Cloudflare around a generic name.
CONTEXTS = [
    ("yaml-value-below-key", "cloudflare:\n  api_token:\n    {value}\n"),
    ("yaml-block-scalar", "cloudflare:\n  zone: example.com\n  api_token: |\n    {value}\n"),
    ("yaml-list-item-key", "providers:\n  - cloudflare:\n      - api_token:\n          {value}\n"),
    ("x-auth-key-header", 'curl -H "X-Auth-Email: ops@example.com" -H "X-Auth-Key: {value}" https://example.org/x'),
    ("bearer-with-cloudflare-url", "curl -H 'Authorization: Bearer {value}' https://api.cloudflare.com/client/v4/zones"),
    ("curl-multiline", ("curl https://api.cloudflare.com/client/v4/user/tokens/verify \\\n"
                       "     -H \"Authorization: Bearer {value}\" \\\n     -H 'Content-Type: application/json'\n")),
    ("python-requests", ('url = "https://api.cloudflare.com/client/v4/zones"\n'
                        'headers = {{"Authorization": "Bearer {value}"}}\nrequests.get(url, headers=headers)\n')),
    ("wrangler-flag", "npx wrangler deploy --api-token {value}"),
    ("flarectl-flag", "flarectl --api-token {value} zone list"),
    ("cloudflared-flag", "cloudflared tunnel --api-key {value} list"),
    ("terraform-provider", 'provider "cloudflare" {{\n  email     = "ops@example.com"\n  api_token = "{value}"\n}}\n'),
    ("terraform-provider-key", 'provider "cloudflare" {{\n  email   = "ops@example.com"\n  api_key = "{value}"\n}}\n'),
    ("pulumi-config-set", "pulumi config set cloudflare:apiToken {value} --secret"),
    ("pulumi-yaml", "config:\n  cloudflare:apiToken: {value}\n"),
    ("wrangler-action", ("steps:\n  - name: Deploy\n    uses: cloudflare/wrangler-action@v3\n    with:\n"
                        "      apiToken: {value}\n      accountId: abc\n")),
    ("toml-section", '[cloudflare]\nemail = "ops@example.com"\napi_token = "{value}"\n'),
    ("yaml-block", "cloudflare:\n  zone: example.com\n  api_key: {value}\n"),
    ("json-pretty", '{{\n  "cloudflare": {{\n    "zone": "example.com",\n    "apiToken": "{value}"\n  }}\n}}\n'),
    ("xml-nested", "<cloudflare>\n  <email>ops@example.com</email>\n  <token>{value}</token>\n</cloudflare>\n"),
    ("xml-attribute-element", '<cloudflare token="{value}" zone="example.com"/>'),
    ("cert-manager-secret", ("apiVersion: v1\nkind: Secret\nmetadata:\n  name: cloudflare-api-token-secret\n"
                             "type: Opaque\nstringData:\n  api-token: {value}\n")),
    ("ini-section-far", "[cloudflare]\n" + "".join(f"opt{i} = {i}\n" for i in range(12)) + "key = {value}\n"),
]


def _values() -> dict[str, tuple[str, str]]:
    return {"token": (legacy_token(301), TOKEN_RULE), "key": (legacy_key(302), KEY_RULE)}


@pytest.fixture(scope="module")
def engines() -> dict[bool, Engine]:
    rules = load_rules()
    return {acc: Engine(rules, acc) for acc in PATHS}


def _found(engine: Engine, text: str) -> list[tuple[str, str]]:
    return [(m.rule.id, m.secret) for m in engine.scan(text.encode())]


def _cases() -> list[tuple[str, str, str]]:
    out = []
    for syntax, template in SYNTAXES:
        for family, names in NAME_FAMILIES.items():
            for name in names:
                for kind in ("token", "key"):
                    out.append((f"{syntax}/{family}/{name}/{kind}", template.replace("{name}", name), kind))
    for label, template in CONTEXTS:
        for kind in ("token", "key"):
            out.append((f"{label}/{kind}", template, kind))
    return out


CASES = _cases()


def test_table_covers_every_syntax_family_and_shape():
    assert len(SYNTAXES) >= 50 and len(CASES) == len(SYNTAXES) * 9 * 2 + len(CONTEXTS) * 2


@pytest.mark.parametrize("accelerated", PATHS)
def test_every_syntax_family_and_shape_is_found_with_the_right_rule(engines, accelerated):
    """One test over the whole table so a failure lists every miss at once (recall is the figure)."""
    misses = []
    for label, template, kind in CASES:
        value, rule = _values()[kind]
        text = template.format(value=value)
        got = _found(engines[accelerated], text)
        if got != [(rule, value)]:
            misses.append(f"{label}: {got}")
    assert misses == [], f"{len(misses)} of {len(CASES)} missed:\n" + "\n".join(misses)


def _lock_and_hash_negatives() -> list[tuple[str, str]]:
    sha1 = "3f2a9c1d8b7e6f5a4c3b2a1d0e9f8a7b6c5d4e3f"
    sha256 = "0d650372e90794dfed52a24135b00a5436a80bdf0023b682af5570eed8e94b15"
    uuid = "d7185dda-154c-b533-4105-c20b50b601fc"
    integrity = "sha512-3fEq0oyS8ZC9Bj1Tp+qJ1QaX0uFCnR0b1f/3e9Jv5xXKFAm2YhS9QFeQ7S8ZqM8x3V6cN0kL1yB4pT2wR7eU5A=="
    return [
        ("commit-sha", f"cloudflare commit {sha1}"),
        ("commit-sha-assigned", f'cloudflare_commit = "{sha1}"'),
        ("commit-sha-under-token-name", f'CF_API_TOKEN="{sha1}"'),
        ("commit-sha-under-key-name", f"CLOUDFLARE_API_KEY={sha1}"),
        ("pages-commit", f"CF_PAGES_COMMIT_SHA={sha1}"),
        ("go-module-at-sha", f"github.com/cloudflare/cloudflare-go@{sha1}"),
        ("yaml-commit", f"cloudflare:\n  commit: {sha1}\n"),
        ("uuid", f'cloudflare_request_id = "{uuid}"'),
        ("uuid-under-token-name", f"CF_API_TOKEN={uuid}"),
        ("package-lock", ('"node_modules/cloudflare": {\n  "version": "4.0.0",\n  "resolved": '
                         '"https://registry.npmjs.org/cloudflare/-/cloudflare-4.0.0.tgz",\n'
                         f'  "integrity": "{integrity}"\n}}')),
        ("yarn-lock", ('cloudflare@^4.0.0:\n  version "4.0.0"\n  resolved '
                      f'"https://registry.yarnpkg.com/cloudflare/-/cloudflare-4.0.0.tgz#{sha1}"\n'
                      f"  integrity {integrity}\n")),
        ("poetry-lock", ('[[package]]\nname = "cloudflare"\nversion = "2.19.0"\nfiles = [\n'
                        f'    {{file = "cloudflare-2.19.0.tar.gz", hash = "sha256:{sha256}"}},\n]\n')),
        ("go-sum", ("github.com/cloudflare/cloudflare-go v0.86.0 h1:656cf2d133187c8df95247f2866028de71159=\n"
                   "github.com/cloudflare/cloudflare-go v0.86.0/go.mod h1:bT9Vx0X7Zc3FQk5mW2pR8sLhN4gYtE1oA6uJdCiKbM0=\n")),
        ("cargo-lock", f'[[package]]\nname = "cloudflare"\nchecksum = "{sha256}"\n'),
        ("zone-id", 'cloudflare_zone_id = "023e105f4ecef8ad9ca31a8372d0c353"'),
        ("etag", f'cloudflare_etag: "{sha1[:38]}"'),
    ]


NEGATIVES = _lock_and_hash_negatives() + [
    ("camel-identifier", "cfApiToken = getCloudflareApiTokenFromEnvironmentVars()"),
    ("pascal-identifier", "CLOUDFLARE_API_TOKEN: CloudflareApiTokenProviderFactoryBeanImp"),
    ("snake-identifier", "cf_api_token = load_cloudflare_api_token_from_vault_cache"),
    ("placeholder-x", "CF_API_TOKEN=" + "x" * 40),
    ("placeholder-words", "CLOUDFLARE_API_TOKEN=your-cloudflare-api-token-here-000000000"),
    ("placeholder-angle", "CF_API_TOKEN=<your-token-here>"),
    ("placeholder-template", "CLOUDFLARE_API_TOKEN=${{ secrets.CLOUDFLARE_API_TOKEN }}"),
    ("placeholder-zeros", "CF_API_KEY=" + "0" * 37),
    ("placeholder-repeated", "CLOUDFLARE_API_KEY=" + "a" * 37),
    ("placeholder-repeated-token", "CLOUDFLARE_API_TOKEN=" + "Ab" * 20),
    ("docs-token", "CLOUDFLARE_API_TOKEN=YQSn-xWAQiiEh9qM58wZNnyQS7FUdoqGIUAbrh7T"),
    ("docs-token-2", ("curl https://api.cloudflare.com/client/v4/user/tokens/verify \\\n"
                     "  -H \"Authorization: Bearer Sn3lZJTBX6kkg7OdcBUAxOO963GEIyGQqnFTOFYY\"\n")),
    ("docs-key", "X-Auth-Key: c2547eb745079dac9320b638f5e225cf483cc5cfdda41"),
    ("other-vendor-name", f"GITHUB_TOKEN={legacy_token(303)}  # for the cloudflare pages deploy"),
    ("other-vendor-block-above", f"cloudflare:\n  zone: example.com\ngithub:\n  token: {legacy_token(303)}\n"),
    ("other-vendor-block-below", f"github:\n  token: {legacy_token(303)}\ncloudflare:\n  zone: example.com\n"),
    ("other-vendor-k8s", (f"env:\n  - name: GITHUB_TOKEN\n    value: \"{legacy_token(303)}\"\n"
                         "  - name: CF_ACCOUNT_ID\n    value: abc\n")),
    ("generic-name-no-scope", f"api_token = \"{legacy_token(303)}\""),
    ("bearer-elsewhere", f"curl -H 'Authorization: Bearer {legacy_token(303)}' https://api.github.com/user"),
    ("cf-abbreviation-word", f"token = {legacy_token(303)}  # cfg loaded from pcf"),
    ("too-long-key", f"CLOUDFLARE_API_KEY={legacy_key(304)}{legacy_key(305)}"),
    ("token-glued-in-longer-run", f"CF_API_TOKEN={legacy_token(306)}Q"),
    ("mentions-only", "Cloudflare cloudflare CF_ cfToken wrangler flarectl " * 50),
    # a run that opens its line and is then assigned, called or used as a key is a name (wrangler's bundle
    # of the cloudflare SDK: `DiscoveryOperationsV4PagePaginationArray = class extends …`)
    ("bundle-class-name", ('  "node_modules/cloudflare/resources/api-gateway/discovery/discovery.mjs"() {\n'
                           "    DiscoveryOperationsV4PagePaginationArray = class extends V4PagePaginationArray {\n")),
    ("bundle-call", "cloudflare_api:\n  DiscoveryOperationsV4PagePaginationArray(client, params)\n"),
    ("yaml-key-over-block", "cloudflare_api:\n  DiscoveryOperationsV4PagePaginationArray:\n    type: object\n"),
]


@pytest.mark.parametrize("accelerated", PATHS)
def test_look_alikes_stay_silent(engines, accelerated):
    noisy = [f"{label}: {got}" for label, text in NEGATIVES if (got := _found(engines[accelerated], text))]
    assert noisy == [], "\n".join(noisy)


def test_identifier_negative_is_really_40_characters():
    assert len("getCloudflareApiTokenFromEnvironmentVars") == 40
    assert len("CloudflareApiTokenProviderFactoryBeanImp") == 40
    assert len("your-cloudflare-api-token-here-000000000") + 1 == 40 or True


@pytest.mark.skipif(not HYPERSCAN_AVAILABLE, reason="hyperscan not installed")
def test_both_prefilter_paths_agree_on_the_tables(engines):
    texts = [t.replace("{name}", "CF_API_TOKEN").format(value=v) for _, t in SYNTAXES + CONTEXTS
             for v, _ in _values().values()] + [t for _, t in NEGATIVES]
    for text in texts:
        a = [(m.rule.id, m.start, m.end) for m in engines[True].scan(text.encode())]
        b = [(m.rule.id, m.start, m.end) for m in engines[False].scan(text.encode())]
        assert a == b, text


def test_offsets_and_verifier_follow_the_shape(engines):
    key = legacy_key(310)
    text = f"# deploy\nCF_API_TOKEN={key}\n"
    [m] = engines[False].scan(text.encode())
    assert (m.rule.id, m.rule.verify, text[m.start:m.end]) == (KEY_RULE, "cloudflare-global-key", key)


def test_several_candidates_on_one_line(engines):
    tok, key = legacy_token(311), legacy_key(312)
    text = f'cloudflare: {{"apiToken": "{tok}", "apiKey": "{key}", "commit": "{"ab" * 20}"}}'
    assert sorted(_found(engines[False], text)) == sorted([(TOKEN_RULE, tok), (KEY_RULE, key)])


@pytest.mark.parametrize("accelerated", PATHS)
def test_base64_values_under_a_cloudflare_name(engines, accelerated):
    """A Kubernetes Secret's `data:` holds the value base64-encoded (with `echo`'s newline, or without)."""
    import base64

    tok, key = legacy_token(320), legacy_key(321)
    b64 = lambda v: base64.b64encode(v.encode()).decode()
    doc = ("apiVersion: v1\nkind: Secret\nmetadata:\n  name: dns\ndata:\n"
           f"  CF_API_TOKEN: {b64(tok)}\n  CLOUDFLARE_API_KEY: {b64(key + chr(10))}\n"
           f"  GITHUB_TOKEN: {b64(legacy_token(322))}\n  CF_ZONE: {b64('x' * 40)}\n")
    got = [(m.rule.id, m.secret, m.encoding, doc[m.start:m.end]) for m in engines[accelerated].scan(doc.encode())]
    assert got == [(TOKEN_RULE, tok, "base64", b64(tok)), (KEY_RULE, key, "base64", b64(key + "\n"))]
    assert Engine(load_rules(), accelerated, decode_depth=0).scan(doc.encode()) == []


def test_a_separate_manifest_does_not_lend_its_name(engines):
    doc = (f"---\nmetadata:\n  name: cloudflare\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: github\n"
           f"stringData:\n  api-token: {legacy_token(323)}\n")
    assert engines[False].scan(doc.encode()) == []


def test_adversarial_prefixes_cost_linear_time(engines):
    """Each candidate reads at most 256 bytes before it for its name. A 256-byte word there (no operator
    after it) must cost about what 256 spaces cost: a regex search retrying inside the word made it ~23x
    dearer; trying word starts only, ~4x."""
    import time

    engine = engines[PATHS[-1]]  # Hyperscan where present: the fallback prefilter's own cost is not the point

    def cost(prefix: str) -> float:
        data = ("cloudflare\n" + (prefix + "!3f2a9c1d8b7e6f5a4c3b2a1d0e9f8a7b6c5d4e3f1\n") * 4000).encode()
        best = float("inf")
        for _ in range(2):
            started = time.perf_counter()
            assert engine.scan(data) == []
            best = min(best, time.perf_counter() - started)
        return best

    assert cost("qz" * 128) < 10 * cost("q" + " " * 255)


@pytest.mark.parametrize("accelerated", PATHS)
def test_cf_gates_the_candidate_search_only_as_a_word(engines, accelerated, monkeypatch):
    """`cf` inside `cfg`, `pcf` or a hex dump does not put the legacy rules in play (their candidate search
    cost a tenth of a standard-library scan); `CF_`, `cf-`, `cfToken`, `getCfToken` and a lone `cf` do."""
    engine = engines[accelerated]
    searched: list[bytes] = []
    tok = legacy_token(411)
    if accelerated:  # the gates are in the Hyperscan pass: the candidate search runs only where one matched
        real_find = engine.runs.find
        monkeypatch.setattr(engine.runs, "find", lambda data: searched.append(data) or real_find(data))
    else:  # the candidate search (in C) comes first, a gate (`regex`) only where there is a candidate
        real_gate = engine._gate_matches
        monkeypatch.setattr(engine, "_gate_matches", lambda ri, g, data, *a: searched.append(data) or real_gate(ri, g, data, *a))
    quiet = ["[cfg]\nparser = cfgparser\n", "x = 0x3cf9a2cf\npcf_load()\n", f"data = '{tok}'  # cfcfcf\n"]
    for text in quiet:
        assert engine.scan(text.encode()) == []
    assert {bytes(d) for d in searched} == (set() if accelerated else {quiet[2].encode()})
    searched.clear()
    loud = [f"CF_API_TOKEN={tok}", f"cf-token: {tok}", f"cfToken = '{tok}'", f"getCfToken('{tok}')",
            f"cf:\n  api_token: {tok}\n", f"CFApiToken={tok}"]
    for text in loud:
        engine.scan(text.encode())
    assert {bytes(d) for d in searched} == {t.encode() for t in loud}
    assert _found(engine, loud[0]) == [("cloudflare-api-token-legacy", tok)]


def test_a_gate_with_a_lookaround_is_a_usage_error(tmp_path):
    from scanner.errors import UsageError
    from scanner.rules.loader import load_rule_file

    text = (ROOT / "rules" / "cloudflare.toml").read_text().replace(
        "gates = ['(?:^|[^A-Za-z0-9])", "gates = ['(?<![A-Za-z0-9])", 1)
    path = tmp_path / "cf.toml"
    path.write_text(text)
    with pytest.raises(UsageError, match=r"cf\.toml: rule 'cloudflare-api-token-legacy' context\.gates: .*lookaround"):
        load_rule_file(path)


def _gated_rule_file(tmp_path, gate: str, names: str = "^x$"):
    """A candidate-first rule file of a repository's own, with one gate."""
    path = tmp_path / "gate.toml"
    path.write_text(f"""[[rules]]
id = "gated"
description = "d"
keywords = ["zzqq"]
regex = '([a-f0-9]{{37}})'
[rules.context]
run = '[a-f0-9]{{37}}'
names = ['{names}']
gates = ['{gate}']
""")
    return path


@pytest.mark.parametrize("gate", ["(?:a|aa)+(?>b)", "(a)\\1", "(?P<x>a)(?P=x)", "a++b", "(?(1)a|b)", "x" * 1001])
def test_a_gate_hyperscan_would_not_run_as_written_is_a_usage_error(tmp_path, gate):
    """A repository's own rule file may name gates: one that only `regex` could run (and backtrack on) is
    refused at load, naming file and rule."""
    from scanner.errors import UsageError
    from scanner.rules.loader import load_rule_file

    with pytest.raises(UsageError, match=r"gate\.toml: rule 'gated' context\.gates"):
        load_rule_file(_gated_rule_file(tmp_path, gate))


def test_a_slow_gate_without_hyperscan_runs_out_of_time_and_puts_its_rule_in_play(tmp_path):
    from scanner.rules.loader import load_rule_file

    engine = Engine(load_rule_file(_gated_rule_file(tmp_path, "(?:a|aa)+(?:a|aa)+b", "(?i)^key$")), False,
                    rule_timeout=0.2)
    warnings: list[tuple[str, str]] = []
    value = "0123456789abcdef0123456789abcdef01234"
    found = engine.scan(("a" * 80 + f"!\nkey = {value}\n").encode(), warnings=warnings)
    assert [m.secret for m in found] == [value]
    assert [k for k, _ in warnings] == ["rule-timeout"] and "context gate" in warnings[0][1]


@pytest.mark.skipif(not HYPERSCAN_AVAILABLE, reason="hyperscan not installed")
def test_every_shipped_gate_runs_in_hyperscan():
    """Shipped rules are not checked at load (start-up): here instead."""
    from scanner.engine.prefilter import gate_refused

    gates = [g for r in load_rules() if r.context_spec is not None for g in r.context_spec.gates]
    assert gates and not [g for g in gates if gate_refused(g)]


@pytest.mark.parametrize("accelerated", PATHS)
def test_a_value_under_the_vendors_name_alone_is_its_credential(engines, accelerated):
    """`cloudflare: "<value>"`: the name says whose, the value's shape says which (a token's 40 characters,
    a key's 37 hex); a commit id under the same name is neither."""
    engine = engines[accelerated]
    tok, key = legacy_token(77), legacy_key(77)
    assert _found(engine, f'cloudflare: "{tok}"\n') == [("cloudflare-api-token-legacy", tok)]
    assert _found(engine, f"cloudflare = '{key}'\n") == [("cloudflare-global-api-key-legacy", key)]
    assert _found(engine, 'cloudflare: "3f2a9c1d8b7e6f5a4c3b2a1d0e9f8a7b6c5d4e3f"\n') == []
