"""Secrets are masked where they are, and nowhere else.

Every test here generates a class of inputs (hypothesis) instead of listing examples: names
that do or do not say "secret", ordinary values full of the working directory, and secrets in
each place one hides (a secret-named variable, URL credentials with any characters, credential
query parameters, well-known token formats, command-line flags). The end-to-end tests write
real runs and read back every byte of every file written, Parquet decoded column by column.
"""

from __future__ import annotations

import os
import re
import string
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import tracklib
from tracklib.write.masking import MASK, Redactor, secret_name

FAST = settings(max_examples=150, deadline=None)
END_TO_END = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# -- names ---------------------------------------------------------------------------------------
PREFIX_WORDS = [
    "aws", "github", "hf", "hugging", "face", "hub", "wandb", "openai", "azure", "storage", "db",
    "mysql", "postgres", "redis", "smtp", "slack", "bot", "stripe", "mlflow", "tracking", "comet",
    "neptune", "kaggle", "client", "service", "account", "app", "prod", "ci", "job", "my", "user",
    "private", "signing", "encryption", "session", "access", "refresh", "master", "basic", "proxy",
]  # fmt: skip
SECRET_LAST = [
    "key", "token", "secret", "secrets", "password", "passwd", "passphrase", "pass", "pwd",
    "credential", "credentials", "creds", "auth", "authorization", "apikey", "pat", "signature",
]  # fmt: skip
# One-word spellings: PGPASSWORD, APITOKEN, CLIENTSECRET.
SECRET_COMPOUNDS = ["pgpassword", "apitoken", "authtoken", "clientsecret", "apikey", "accesskey", "secretkey"]
ENCODINGS = ["json", "b64", "base64", "value", "pem", "raw", "data"]
# What a last word after a secret word makes of the name: a place, a mode, a switch.
DESCRIPTORS = [
    "sock", "socket", "file", "path", "dir", "directory", "url", "uri", "endpoint", "type", "mode",
    "provider", "id", "name", "host", "port", "region", "enabled", "timeout", "method", "backend",
    "manager", "address", "layout", "length", "size", "count", "parallelism", "cache", "home",
]  # fmt: skip
# Words that contain a secret word without being one.
LOOKALIKES = [
    "keyboard", "monkey", "turkey", "hotkey", "keystroke", "tokenizer", "tokens", "tokenize",
    "passage", "compass", "bypass", "oldpwd", "xauthority", "authority", "author", "authors",
    "secretary", "session", "keychain", "keyring", "passport", "signatures", "credentialing",
]  # fmt: skip
# `key` and `token` after these are a data key or a vocabulary token.
ORDINARY_BEFORE = [
    "sort",
    "metric",
    "monitor",
    "cache",
    "rng",
    "pad",
    "eos",
    "bos",
    "unk",
    "mask",
    "max",
    "num",
]

# Variables every shell, desktop, CI runner or notebook sets; none holds a secret.
ORDINARY_ENVIRONMENT_NAMES = [
    "PWD", "OLDPWD", "HOME", "USER", "LOGNAME", "SHELL", "PATH", "LANG", "TERM", "TMPDIR",
    "SSH_AUTH_SOCK", "SSH_AGENT_PID", "SSH_CONNECTION", "XAUTHORITY", "SESSION_MANAGER",
    "DBUS_SESSION_BUS_ADDRESS", "XDG_SESSION_TYPE", "XDG_SESSION_ID", "DESKTOP_SESSION",
    "KEYBOARD_LAYOUT", "GNOME_KEYRING_CONTROL", "GPG_AGENT_INFO", "GIT_ASKPASS", "SSH_ASKPASS",
    "VSCODE_GIT_ASKPASS_MAIN", "TERM_SESSION_ID", "SECURITYSESSIONID", "KRB5CCNAME",
    "TOKENIZERS_PARALLELISM", "HF_HOME", "HF_TOKEN_PATH", "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_PROFILE",
    "ACTIONS_ID_TOKEN_REQUEST_URL", "CREDENTIALS_DIRECTORY", "PASSWORD_STORE_DIR", "JPY_SESSION_NAME",
    "AUTH_TYPE", "AUTH_PROVIDER", "MONKEY", "CONDA_PREFIX", "VIRTUAL_ENV", "MLFLOW_TRACKING_URI",
]  # fmt: skip


def _render(words: list[str], style: str) -> str:
    """One name in the spellings people use: ENV_VAR, snake, kebab, dotted, camel, Pascal."""
    if style == "upper":
        return "_".join(words).upper()
    if style == "camel":
        return words[0] + "".join(word.capitalize() for word in words[1:])
    if style == "pascal":
        return "".join(word.capitalize() for word in words)
    return {"snake": "_", "kebab": "-", "dotted": "."}[style].join(words)


STYLES = st.sampled_from(["upper", "snake", "kebab", "dotted", "camel", "pascal"])


@st.composite
def secret_names(draw: st.DrawFn) -> str:
    prefix = draw(st.lists(st.sampled_from(PREFIX_WORDS), max_size=3))
    last = draw(st.sampled_from(SECRET_LAST + SECRET_COMPOUNDS))
    assume(prefix or last != "pwd")  # a bare PWD is the working directory
    words = [*prefix, last]
    if draw(st.booleans()):
        words.append(draw(st.sampled_from(ENCODINGS)))  # SERVICE_ACCOUNT_KEY_JSON
    return _render(words, draw(STYLES))


@st.composite
def ordinary_names(draw: st.DrawFn) -> str:
    prefix = draw(st.lists(st.sampled_from(PREFIX_WORDS), max_size=2))
    kind = draw(st.sampled_from(["descriptor", "lookalike", "data-key"]))
    if kind == "descriptor":  # SSH_AUTH_SOCK, HF_TOKEN_PATH, AUTH_TYPE
        words = [*prefix, draw(st.sampled_from(SECRET_LAST)), draw(st.sampled_from(DESCRIPTORS))]
    elif kind == "lookalike":  # KEYBOARD_LAYOUT, TOKENIZER, XAUTHORITY
        words = [*prefix, draw(st.sampled_from(LOOKALIKES))]
        if draw(st.booleans()):
            words.append(draw(st.sampled_from(DESCRIPTORS)))
    else:  # sort_key, eos_token
        words = [*prefix, draw(st.sampled_from(ORDINARY_BEFORE)), draw(st.sampled_from(["key", "token"]))]
    return _render(words, draw(STYLES))


@FAST
@given(secret_names())
def test_names_ending_in_a_secret_word_are_secret(name):
    assert secret_name(name)


@FAST
@given(st.one_of(ordinary_names(), st.sampled_from(ORDINARY_ENVIRONMENT_NAMES)))
def test_names_that_only_contain_a_secret_word_are_not(name):
    assert not secret_name(name)


# -- values ---------------------------------------------------------------------------------------
SEGMENT = st.text(string.ascii_lowercase + string.digits + "_-.", min_size=1, max_size=12).filter(
    lambda s: s not in (".", "..")
)
PATH_TAIL = st.lists(SEGMENT, min_size=1, max_size=4).map("/".join)
# Printable, no whitespace: what a password or token may hold.
NO_SPACE = "".join(c for c in string.printable if not c.isspace())


def _random_enough(value: str) -> bool:
    """Generated secrets must not be found in unrelated text by accident (`aaaaaa`)."""
    return len(set(value)) >= 6


SECRETS = st.text(NO_SPACE, min_size=10, max_size=32).filter(_random_enough)
TOKENS = st.text(string.ascii_letters + string.digits + "-_.~", min_size=10, max_size=40).filter(
    lambda s: _random_enough(s) and not s.startswith("--")  # `--token --next`: a flag is no value
)


@st.composite
def ordinary_environments(draw: st.DrawFn, cwd: str) -> dict[str, str]:
    """A realistic environment: the shell's folders, sockets, session plumbing, and secret-named
    variables that point at files."""
    home = os.path.dirname(cwd) or "/"
    return {
        "PWD": cwd,
        "OLDPWD": home,
        "HOME": home,
        "USER": "alice",
        "SHELL": "/bin/bash",
        "LANG": "en_US.UTF-8",
        "SSH_AUTH_SOCK": f"/tmp/ssh-{draw(SEGMENT)}/agent.{draw(st.integers(1, 99999))}",
        "XAUTHORITY": f"{home}/.Xauthority",
        "SESSION_MANAGER": f"local/host:@/tmp/.ICE-unix/{draw(st.integers(1, 9999))},unix/host:/tmp/.ICE-unix/1",
        "DBUS_SESSION_BUS_ADDRESS": "unix:path=/run/user/1000/bus",
        "XDG_SESSION_TYPE": "wayland",
        "DESKTOP_SESSION": "ubuntu",
        "KEYBOARD_LAYOUT": "us-intl",
        "TOKENIZERS_PARALLELISM": "false",
        "HF_TOKEN_PATH": f"{home}/.cache/huggingface/token",
        "AUTH_PROVIDER": "github",
        # A secret-named variable holding the path of a real file is not a secret.
        "GOOGLE_APPLICATION_CREDENTIALS": __file__,
    }


@st.composite
def ordinary_urls(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(["https", "http", "s3", "gs", "hf", "git+https", "file"]))
    host = draw(st.sampled_from(["example.com", "github.com", "huggingface.co", "bucket", "localhost"]))
    port = draw(st.sampled_from(["", ":8080", ":5000"]))
    path = "/" + draw(PATH_TAIL)
    query = draw(
        st.lists(
            st.tuples(
                st.sampled_from(["page", "q", "lr", "ref", "revision", "tokenizer", "sort_key"]), SEGMENT
            ),
            max_size=3,
        )
    )
    url = f"{scheme}://{host}{port}{path}"
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query)
    if not port and not query and draw(st.booleans()):
        url += "@" + draw(SEGMENT)  # pip's `git+https://...@v1.0`, `https://medium.com/@me`
    return url


# Values that start like a token format, or equal the value of an ordinary variable above.
LOOKALIKE_VALUES = [
    "sk-learn", "task-1", "ask-me", "hf_out", "hf_datasets_cache", "eyJ", "AKIA", "ghp_",
    "the bearer of news", "me@example.com", "wayland", "ubuntu", "us-intl", "github", "false",
]  # fmt: skip


@st.composite
def ordinary_texts(draw: st.DrawFn, cwd: str) -> str:
    """Text that mentions the working directory, home, lookalike tokens and plain URLs."""
    home = os.path.dirname(cwd) or "/"
    part = st.one_of(
        PATH_TAIL.map(lambda tail: f"{cwd}/{tail}"),
        PATH_TAIL.map(lambda tail: f"{home}/{tail}"),
        st.just(cwd),
        ordinary_urls(),
        st.sampled_from(LOOKALIKE_VALUES),
        SEGMENT,
    )
    parts = draw(st.lists(part, min_size=1, max_size=4))
    return draw(st.sampled_from([" ", "\n", ", "])).join(parts)


@FAST
@given(st.data())
def test_ordinary_values_are_stored_unchanged(data):
    cwd = "/" + data.draw(PATH_TAIL)
    redact = Redactor(data.draw(ordinary_environments(cwd)))
    text = data.draw(ordinary_texts(cwd))
    assert redact(text) == text
    flag = _render(
        data.draw(
            st.sampled_from([["output", "dir"], ["tokenizer", "name"], ["eos", "token"], ["logging", "dir"]])
        ),
        "snake",
    )
    args = ["train.py", f"--{flag}={text}", f"--{flag}", text, f"model.{flag}={text}"]
    assert redact.argv(args) == args


# -- secrets: each place one hides ----------------------------------------------------------------
@st.composite
def secret_in_environment(draw: st.DrawFn) -> tuple[dict[str, str], str, str]:
    """(environ, secret, text): the value of a secret-named variable, anywhere in the text."""
    secret = draw(st.text(string.printable.strip() + " ", min_size=6, max_size=32).filter(_random_enough))
    assume(not os.path.exists(secret))
    environ = {draw(secret_names()): secret, "PWD": "/home/alice"}
    return environ, secret, f"{draw(SEGMENT)}{secret}{draw(SEGMENT)}"


@st.composite
def secret_in_url_credentials(draw: st.DrawFn) -> tuple[dict[str, str], str, str]:
    """A password with any characters (`/ @ : ? #` too), or a token as the user name."""
    host = draw(st.sampled_from(["github.com", "db.internal:5432", "10.0.0.1", "example.com"]))
    path = draw(st.sampled_from(["", "/", "/o/r.git", "/db?sslmode=require", "/x@y"]))
    if draw(st.booleans()):
        secret = draw(SECRETS)
        user = draw(st.text(string.ascii_letters + string.digits + "._-", max_size=8))
        userinfo = f"{user}:{secret}"
    else:
        secret = draw(TOKENS)
        userinfo = secret
    scheme = draw(
        st.sampled_from(["https", "http", "postgresql", "redis", "git+https", "ssh", "mongodb+srv"])
    )
    url = f"{scheme}://{userinfo}@{host}{path}"
    before = draw(st.sampled_from(["", "url=", "see ", '{"url": "', "['x', '", "https://ok.example/a "]))
    after = draw(st.sampled_from(["", " and more", '"}', "', 'a@b']", "\nnext line"]))
    return {}, secret, before + url + after


CREDENTIAL_QUERY_NAMES = [
    "access_token", "token", "api_key", "apikey", "api-key", "key", "sig", "signature", "Signature",
    "X-Amz-Signature", "X-Amz-Credential", "X-Amz-Security-Token", "X-Goog-Signature",
    "X-Goog-Credential", "password", "secret", "client_secret", "auth", "refresh_token", "id_token",
    "private_token", "jwt", "AccountKey", "SharedAccessSignature", "Password",
]  # fmt: skip


@st.composite
def secret_in_query(draw: st.DrawFn) -> tuple[dict[str, str], str, str]:
    """A credential query parameter (or connection-string field), first, in the middle or last."""
    secret = draw(
        st.text(string.ascii_letters + string.digits + "%._~+/=;:?@!$'()*,-", min_size=10, max_size=40)
    )
    assume(_random_enough(secret))
    name = draw(st.sampled_from(CREDENTIAL_QUERY_NAMES))
    other = draw(st.sampled_from(["page=2", "X-Amz-Date=20250101T000000Z", "sv=2022-11-02", "state=xyz"]))
    where = draw(st.sampled_from(["first", "middle", "last", "fragment", "connection", "alone"]))
    text = {
        "first": f"https://host.example/p?{name}={secret}&{other}",
        "middle": f"https://host.example/p?{other}&{name}={secret}&{other}",
        "last": f"https://host.example/p?{other}&{name}={secret}",
        "fragment": f"https://host.example/cb#{name}={secret}&{other}",
        "connection": f"DefaultEndpointsProtocol=https;AccountName=a;{name}={secret};EndpointSuffix=x",
        "alone": f"{name}={secret}",
    }[where]
    before = draw(st.sampled_from(["", "GET ", "curl '"]))
    return {}, secret, before + text + draw(st.sampled_from(["", " 200", "'"]))


def _chars(alphabet: str, size: int | tuple[int, int]) -> st.SearchStrategy[str]:
    low, high = (size, size) if isinstance(size, int) else size
    return st.text(alphabet, min_size=low, max_size=high)


ALNUM = string.ascii_letters + string.digits
URLSAFE = ALNUM + "-_"
HEX = "0123456789abcdef"


def _alone(secret: st.SearchStrategy[str]) -> st.SearchStrategy[tuple[str, str]]:
    return secret.map(lambda value: ("", value))


def _pem(kind: str, body: str) -> str:
    block = " BLOCK" if kind == "PGP " else ""
    return f"-----BEGIN {kind}PRIVATE KEY{block}-----\n{body}\n-----END {kind}PRIVATE KEY{block}-----"


# (lead, secret): the lead is text a format needs in front (`Bearer `, a webhook's host), kept;
# the secret is what must not be stored.
KNOWN_FORMATS = st.one_of(
    _alone(st.builds("{}{}".format, st.sampled_from(["AKIA", "ASIA"]), _chars(string.ascii_uppercase + string.digits, 16))),
    _alone(st.builds("{}_{}".format, st.sampled_from(["ghp", "gho", "ghs", "ghu", "ghr"]), _chars(ALNUM, 36))),
    _alone(st.builds("github_pat_{}".format, _chars(ALNUM + "_", 82))),
    _alone(st.builds("glpat-{}".format, _chars(URLSAFE, 20))),
    _alone(st.builds("xox{}-{}".format, st.sampled_from("abpors"), _chars(ALNUM + "-", (20, 60)))),
    _alone(st.builds("xapp-1-{}".format, _chars(ALNUM + "-", (20, 60)))),
    _alone(st.builds("sk-{}".format, _chars(ALNUM, (32, 64)))),
    _alone(st.builds("sk-{}-{}".format, st.sampled_from(["proj", "ant", "svcacct", "admin", "or"]), _chars(URLSAFE, (40, 120)))),
    _alone(st.builds("{}k_{}_{}".format, st.sampled_from("sr"), st.sampled_from(["live", "test"]), _chars(ALNUM, 24))),
    _alone(st.builds("hf_{}".format, _chars(string.ascii_letters, 34))),
    _alone(st.builds("AIza{}".format, _chars(URLSAFE, 35))),
    _alone(st.builds("ya29.{}".format, _chars(URLSAFE, (40, 120)))),
    _alone(st.builds("npm_{}".format, _chars(ALNUM, 36))),
    _alone(st.builds("pypi-AgEIcHlwaS5vcmc{}".format, _chars(URLSAFE, (50, 150)))),
    _alone(st.builds("SG.{}.{}".format, _chars(URLSAFE, 22), _chars(URLSAFE, 43))),
    _alone(st.builds("dapi{}".format, _chars(HEX, 32))),
    _alone(st.builds("r8_{}".format, _chars(ALNUM, 37))),
    _alone(st.builds("gsk_{}".format, _chars(ALNUM, 52))),
    _alone(st.builds("dckr_pat_{}".format, _chars(URLSAFE, 27))),
    _alone(st.builds("dop_v1_{}".format, _chars(HEX, 64))),
    _alone(st.builds("eyJ{}.eyJ{}.{}".format, _chars(URLSAFE, (10, 40)), _chars(URLSAFE, (10, 80)), _chars(URLSAFE, (0, 60)))),
    _alone(st.builds(_pem, st.sampled_from(["", "RSA ", "EC ", "OPENSSH ", "ENCRYPTED ", "PGP "]), _chars(ALNUM + "+/=\n", (40, 200)))),
    st.tuples(st.sampled_from(["Bearer ", "bearer  ", "Authorization: Bearer "]), _chars(ALNUM + "._~+/=-", (16, 80))),
    st.tuples(st.sampled_from(["Authorization: Basic ", "authorization:Basic "]), _chars(ALNUM + "+/=", (8, 60))),
    st.tuples(
        st.just("https://hooks.slack.com/services/"),
        st.builds("T{}/B{}/{}".format, _chars(ALNUM, 10), _chars(ALNUM, 10), _chars(ALNUM, 24)),
    ),
    st.tuples(
        st.sampled_from(["https://discord.com/api/webhooks/", "https://discordapp.com/api/webhooks/"]),
        st.builds("{}/{}".format, _chars(string.digits, 18), _chars(URLSAFE, 68)),
    ),
)  # fmt: skip


@st.composite
def secret_in_known_format(draw: st.DrawFn) -> tuple[dict[str, str], str, str]:
    lead, secret = draw(KNOWN_FORMATS)
    before = draw(st.sampled_from(["", "key: ", 'api_key = "', "uses ", "Bearer ", "(", "x=", "\n+  "]))
    after = draw(st.sampled_from(["", '"', ")", " for the run", "\n", ",", "-extra"]))
    return {}, secret, before + lead + secret + after


PLACES = st.one_of(
    secret_in_environment(), secret_in_url_credentials(), secret_in_query(), secret_in_known_format()
)


@settings(max_examples=400, deadline=None)
@given(PLACES)
def test_secrets_are_masked_in_text(place):
    environ, secret, text = place
    masked = Redactor(environ)(text)
    assert secret not in masked
    assert MASK in masked
    assert Redactor(environ)(masked) == masked  # masking again changes nothing (importers re-mask)


CODE_VALUE = r"[A-Za-z_][\w.]*[(\[),]"
IDENTIFIER = st.from_regex(r"[a-z_][a-z0-9_]{0,8}(\.[a-z_][a-z0-9_]{0,8}){0,2}", fullmatch=True)


@FAST
@given(
    st.lists(st.sampled_from(PREFIX_WORDS), max_size=2),
    st.sampled_from(SECRET_LAST),
    st.one_of(
        st.builds("{}{}".format, IDENTIFIER, st.sampled_from(["(", ")", ",", "[", "(x))", "[0],"])),
        st.sampled_from(["lambda", "None", "True", "False"]),
    ),
    st.sampled_from(["+    rows = sorted(rows, ", "-        f(x, ", " ", "+\t"]),
)
def test_arguments_in_a_diff_are_code_not_credentials(prefix, last, value, line):
    """`sorted(rows, key=len)`, `key=lambda r: r[0]`, `token=get_token(x)` stay in the diff."""
    diff = f"{line}{'_'.join([*prefix, last])}={value}"
    assert Redactor({})(diff, code=True) == diff
    assert MASK in Redactor({})(diff)  # anywhere else, a secret-named value is masked


@FAST
@given(secret_names(), ordinary_names(), st.text(min_size=1, max_size=20))
def test_params_named_like_secrets_are_masked_whole(secret_key, ordinary_key, value):
    redact = Redactor({})
    assert redact.param(f"args.{secret_key}", value) == MASK  # Hugging Face's `args.hub_token`
    assert redact.param(ordinary_key, value) == redact(value)
    assert redact.param(secret_key, None) is None and redact.param(secret_key, 3) == 3


@FAST
@given(secret_names(), TOKENS, st.sampled_from(["--{}={}", "-{}={}", "{}={}", "+{}={}", "model.{}={}"]))
def test_secret_flags_are_masked_in_argv(name, secret, form):
    args = ["train.py", form.format(name, secret), "--lr=0.1", f"--{name}", secret, "data.csv"]
    masked = Redactor({}).argv(args)
    assert not any(secret in arg for arg in masked), masked
    assert masked[0] == "train.py" and masked[2] == "--lr=0.1" and masked[-1] == "data.csv"


def test_a_megabyte_of_hostile_text_is_masked():
    """No pattern may rescan the rest of a long string from each position (an earlier URL regex
    made one 1 MB param take minutes). Not timed: a quadratic pattern would stall this test."""
    redact = Redactor({"HF_TOKEN": "hf_secretvalue"})
    n = 1_000_000
    for text in [
        "@" + "a://" * (n // 4),  # URL credentials: a scheme every 4 characters, one `@`
        "https://a:" + "/" * n + "@h",  # a password of slashes
        "-eyJ" * (n // 4),  # a JWT start at every token boundary
        "?token=" * (n // 7),  # a credential parameter every 7 characters
        "?" + "a" * n,  # a parameter name that never ends
        "-----BEGIN PRIVATE KEY-----" * (n // 27),  # key blocks that never end
        ("-ghp_" + "a" * 29) * (n // 34),  # almost-tokens, one short each
        " a://b:c@d" * (n // 10),  # many short URLs with credentials
    ]:  # fmt: skip
        redact.argv([text])  # the argv rules, then every text rule


# -- end to end: every file written ----------------------------------------------------------------
def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, bytes):
        yield value.decode("utf-8", "replace")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def _everything_written(*folders: Path) -> tuple[bytes, str, int]:
    """The raw bytes of every file, and every string of every Parquet file decoded (pages are
    compressed): each column's values, nested lists and structs included, and the metadata."""
    raw, decoded, parquet = [], [], 0
    for folder in folders:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            raw.append(path.read_bytes())
            if path.suffix == ".parquet":
                parquet += 1
                file = pq.ParquetFile(path)
                decoded += _strings(file.read().to_pydict())
                decoded += _strings(dict(file.metadata.metadata or {}))
    return b"\n".join(raw), "\n".join(decoded), parquet


@pytest.fixture(scope="module")
def written_anyway(git_repo, tmp_path_factory) -> str:
    """Everything a run without secrets writes (column names, ids, host, versions): generated
    secrets that happen to be in it (`git_commit`) prove nothing."""
    tmp = tmp_path_factory.mktemp("plain")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TRACKLIB_SPOOL", str(tmp / "spool"))
        patch.chdir(git_repo)
        with tracklib.init("secrets", root=str(tmp / "store"), capture=("system", "argv", "git")) as run:
            run.log({"loss": 1.0})
    raw, decoded, _ = _everything_written(tmp)
    return _Text(raw.decode("latin-1") + decoded)


class _Text(str):
    def __repr__(self) -> str:  # hypothesis prints the arguments of a failing example
        return f"<{len(self)} characters>"


@pytest.fixture(scope="module")
def git_repo(tmp_path_factory) -> Path:
    """A clean repository whose `origin` each example sets (git runs in the process's folder)."""
    repo = tmp_path_factory.mktemp("repo")
    _git(repo, "init", "-q")
    (repo / "train.py").write_text("print(1)\n")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "x")
    _git(repo, "remote", "add", "origin", "https://example.com/o/r.git")
    return repo


def _git(repo: Path, *args: str) -> None:
    quiet = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    subprocess.run(
        ["git", "-c", "user.email=a@b.c", "-c", "user.name=t", "-C", str(repo), *args], check=True, env=quiet
    )


@END_TO_END
@given(
    env_place=secret_in_environment(),
    url_place=secret_in_url_credentials(),
    query_place=secret_in_query(),
    format_place=secret_in_known_format(),
    flag=secret_names(),
    flag_secret=TOKENS,
    remote_secret=SECRETS,
)
def test_no_secret_reaches_any_file(
    git_repo,
    written_anyway,
    env_place,
    url_place,
    query_place,
    format_place,
    flag,
    flag_secret,
    remote_secret,
):
    environ, env_secret, env_text = env_place
    assume("\x00" not in env_secret and "\\" not in remote_secret and '"' not in remote_secret)
    _, url_secret, url_text = url_place
    _, query_secret, query_text = query_place
    _, format_secret, format_text = format_place
    secrets = [env_secret, url_secret, query_secret, format_secret, flag_secret, remote_secret]
    # In the diff, `name=value` after whitespace whose value reads as code is an argument, kept.
    assume(not (query_text.startswith("GET ") and re.match(CODE_VALUE, query_secret)))
    assume(not any(secret in written_anyway for secret in secrets))
    # Each secret is only where it was put: not inside another place's text by chance.
    texts = {env_secret: env_text, url_secret: url_text, query_secret: query_text, format_secret: format_text}
    assume(
        not any(secret in text for secret in secrets for text in texts.values() if texts.get(secret) != text)
    )
    assume(not any(secret in flag for secret in secrets))  # the flag's name is stored (argv, param key)
    _git(git_repo, "remote", "set-url", "origin", f"https://bot:{remote_secret}@example.com/o/r.git")
    # An uncommitted change, so the diff is captured too: secrets typed into code or a .env file.
    (git_repo / "train.py").write_text(f"print(1)\n{format_text}\n{query_text}\n{url_text}\n{env_text}\n")
    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as patch:
        root, spool = Path(tmp) / "store", Path(tmp) / "spool"
        patch.setenv("TRACKLIB_SPOOL", str(spool))
        patch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
        for name, value in environ.items():
            patch.setenv(name, value)
        patch.chdir(git_repo)
        patch.setattr(sys, "argv", ["train.py", f"--{flag}", flag_secret, f"--note={env_text}", query_text])
        with tracklib.init(
            "secrets",
            root=str(root),
            capture=("system", "argv", "git", "git_diff"),
            params={
                "endpoint": url_text,
                "data": {"url": query_text},
                "env": env_text,
                "args": {flag: flag_secret},
            },
            tags=[env_text, format_text],
            notes=f"{format_text}\n{url_text}\n{env_text}",
        ) as run:
            run.log_params({"later": format_text, "also": query_text})
            run.log({"loss": 1.0})
            run.finish("failed", error=f"HTTPError: 401 Unauthorized for url: {query_text}")
        raw, decoded, parquet = _everything_written(root, spool)
    assert parquet >= 2  # a record and the environment were written and read back
    assert MASK in decoded and "example.com/o/r.git" in decoded
    assert " print(1)" in decoded  # the diff's context line: the diff was captured
    for secret in secrets:
        assert secret.encode() not in raw, secret
        assert secret not in decoded, secret


@settings(max_examples=15, deadline=None)
@given(st.data())
def test_ordinary_values_round_trip_unchanged(git_repo, data):
    """The working directory, home and the rest of a real environment stay in what is stored."""
    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as patch:
        cwd = str(git_repo)
        for name, value in data.draw(ordinary_environments(cwd)).items():
            patch.setenv(name, value)
        patch.setenv("TRACKLIB_SPOOL", str(Path(tmp) / "spool"))
        patch.chdir(git_repo)
        texts = data.draw(st.lists(ordinary_texts(cwd), min_size=3, max_size=3))
        argv = ["train.py", f"--output_dir={texts[0]}", "--logging_dir", texts[1]]
        patch.setattr(sys, "argv", argv)
        keys = data.draw(st.lists(ordinary_names(), min_size=1, max_size=3, unique=True))
        params = {"args": {"output_dir": texts[0]}, "cwd": cwd, "credentials_file": __file__} | dict.fromkeys(
            keys, texts[2]
        )
        with tracklib.init(
            "plain",
            root=str(Path(tmp) / "store"),
            capture=("argv",),
            params=params,
            tags=[texts[1]],
            notes=texts[2],
        ) as run:
            pass
        stored = tracklib.open_store(str(Path(tmp) / "store")).run("plain", run.id)
    assert stored.params == {
        "args.output_dir": texts[0],
        "cwd": cwd,
        "credentials_file": __file__,
    } | dict.fromkeys(keys, texts[2])
    assert stored.tags == [texts[1]] and stored.notes == texts[2]
    assert stored.environment["argv"] == argv
