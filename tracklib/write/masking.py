"""Which text is a secret, and masking it as ``***`` before anything is written.

``Redactor`` is applied to param values, tags, notes and the error text of records, and to the
captured argv, git remote and git diff (docs/FORMAT.md §9 has the rules for users):

1. Values of environment variables whose *name* says they hold a secret (``secret_name``).
2. URL credentials: everything between ``scheme://`` and the ``@`` before the host.
3. ``name=value`` credentials whose name says they are one, in query strings (``?access_token=``,
   ``&sig=``, ``X-Amz-Signature=``), connection strings (``;AccountKey=``) and after whitespace.
4. Well-known credential formats wherever they appear (``AKIA...``, ``ghp_...``, JWTs, PEM
   private keys, ...), written tightly enough that ``sk-learn`` or ``task-1`` stay as they are.
5. Secret-named flags in argv (``--api-key=X``, ``--password X``, ``db.password=X``) and
   secret-named params (``hub_token``) are masked whole.

Every pattern here must stay linear in the length of the text: a param can be a megabyte, and a
regex that rescans the rest of the string from each start position takes minutes on it.
"""

from __future__ import annotations

import functools
import keyword
import os
import re
from collections.abc import Iterable, Mapping
from typing import Any

MASK = "***"

# Words that name a secret when they are the LAST word of a name: `DB_PASSWORD`, `hub_token`,
# `--api-key`. Only the last word counts, because words after it say what the variable is
# instead: `SSH_AUTH_SOCK` is a socket path, `AUTH_TYPE` a mode, `TOKEN_URL` an endpoint,
# `AWS_SHARED_CREDENTIALS_FILE` a path. Whole words only: `KEYBOARD_LAYOUT`, `MONKEY`,
# `TOKENIZER`, `XAUTHORITY` and `SESSION_MANAGER` are not secrets.
_SECRET_WORDS = frozenset(
    {
        "key", "token", "secret", "secrets", "password", "passwd", "passphrase", "pass", "pwd",
        "credential", "credentials", "cred", "creds", "auth", "authorization", "apikey", "pat",
        "signature",
    }
)  # fmt: skip
# One-word spellings that end in a secret word: `PGPASSWORD`, `APITOKEN`, `CLIENTSECRET`.
# Not `key` on its own (`MONKEY`, `HOTKEY`) and not `pwd` (`OLDPWD` is the previous folder).
_SECRET_ENDINGS = (
    "password", "passwd", "passphrase", "token", "secret", "apikey", "accesskey", "secretkey",
    "privatekey", "credentials",
)  # fmt: skip
# A last word that describes the encoding of the word before it: `SERVICE_ACCOUNT_KEY_JSON`,
# `SSH_KEY_B64`, `TOKEN_VALUE`, `SECRET_KEY_BASE` hold the secret itself.
_ENCODING_WORDS = frozenset(
    {"value", "json", "b64", "base64", "raw", "data", "string", "str", "hex", "pem", "base"}
)
# Two-word names that hold a secret though neither word is one.
_SECRET_PAIRS = frozenset({("connection", "string"), ("webhook", "url")})
# `key` and `token` after one of these name a data key or a vocabulary token, not a credential:
# `--sort_key loss`, `cache_key`, `rng_key`, `--eos_token "</s>"`, `tokenizer.pad_token`.
_ORDINARY_BEFORE = frozenset(
    {
        "sort", "metric", "monitor", "group", "partition", "primary", "foreign", "join", "index",
        "column", "field", "label", "target", "input", "output", "lookup", "cache", "hash", "dict",
        "map", "shard", "split", "rng", "prng", "random", "seed", "pad", "bos", "eos", "unk",
        "sep", "cls", "mask", "start", "end", "special", "max", "min", "num", "public", "pub",
        "object", "blob", "bucket", "s3", "file", "path",
    }
)  # fmt: skip
# Query parameters add the short names URL signers use (Azure SAS `sig`, `jwt`), session ids
# (`;jsessionid=`) and a bare `pwd` (no working directory in a URL).
_QUERY_WORDS = frozenset({"sig", "jwt", "pwd", "sessionid", "jsessionid", "phpsessid"})

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NOT_ALNUM = re.compile(r"[^A-Za-z0-9]+")


@functools.lru_cache(maxsize=4096)
def secret_name(name: str, query: bool = False) -> bool:
    """Whether a variable, flag or query parameter with this name holds a secret (see the
    word lists above; ``query`` adds the URL signers' short names)."""
    words = [word.lower() for part in _NOT_ALNUM.split(name) for word in _CAMEL.split(part) if word]
    if not words:
        return False
    if len(words) > 1 and words[-1] in _ENCODING_WORDS and (words[-2], words[-1]) not in _SECRET_PAIRS:
        words.pop()
    last = words[-1]
    before = words[-2] if len(words) > 1 else None
    if (before, last) in _SECRET_PAIRS:
        return True
    if last == "pwd" and not query:  # `MYSQL_PWD`; a bare `PWD` is the working directory
        return before is not None
    if last in ("key", "token") and before in _ORDINARY_BEFORE:
        return False
    return last in _SECRET_WORDS or (query and last in _QUERY_WORDS) or last.endswith(_SECRET_ENDINGS)


# -- rule 4: well-known formats --------------------------------------------------------------
# Each alternative starts with a literal prefix, and no match may start inside a token (the
# lookbehind), so every start is at the beginning of a run of token characters and each run is
# scanned a bounded number of times: linear in the text.
_TOKEN_START = r"(?<![A-Za-z0-9_\-])"
_KNOWN_FORMATS = re.compile(
    _TOKEN_START
    + r"(?:"
    + r"|".join(
        [
            r"(?:AKIA|ASIA)[0-9A-Z]{16}",  # AWS access key ids
            r"gh[pousr]_[A-Za-z0-9]{30,}",  # GitHub tokens
            r"github_pat_[A-Za-z0-9_]{22,}",  # GitHub fine-grained tokens
            r"glpat-[A-Za-z0-9_\-]{20,}",  # GitLab
            r"xox[abposr]-[A-Za-z0-9\-]{10,}",  # Slack
            r"xapp-[0-9]-[A-Za-z0-9\-]{10,}",  # Slack app tokens
            r"sk-(?:proj|svcacct|admin|ant|or)-[A-Za-z0-9_\-]{20,}",  # OpenAI, Anthropic, OpenRouter
            r"sk-[A-Za-z0-9]{32,}",  # OpenAI-style keys: long, no dashes (so not `sk-learn-...`)
            r"[rs]k_(?:live|test)_[A-Za-z0-9]{16,}",  # Stripe
            r"hf_[A-Za-z0-9]{30,}",  # Hugging Face
            r"AIza[0-9A-Za-z_\-]{35}",  # Google API keys
            r"npm_[A-Za-z0-9]{36,}",  # npm
            r"pypi-[A-Za-z0-9_\-]{50,}",  # PyPI
            r"eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*",  # JWTs
            r"ya29\.[A-Za-z0-9_\-]{20,}",  # Google OAuth access tokens
            r"SG\.[A-Za-z0-9_\-]{16,}\.[A-Za-z0-9_\-]{16,}",  # SendGrid
            r"dapi[0-9a-f]{32}",  # Databricks
            r"r8_[A-Za-z0-9]{30,}",  # Replicate
            r"gsk_[A-Za-z0-9]{40,}",  # Groq
            r"dckr_pat_[A-Za-z0-9_\-]{20,}",  # Docker Hub
            r"dop_v1_[0-9a-f]{64}",  # DigitalOcean
            # Webhook URLs whose path is the secret (the host is kept).
            r"(?<=hooks\.slack\.com/services/)[A-Za-z0-9]{6,}/[A-Za-z0-9]{6,}/[A-Za-z0-9]{16,}",
            r"(?<=/api/webhooks/)[0-9]{10,}/[A-Za-z0-9_\-]{30,}",  # Discord
        ]
    )
    + r")"
    # Authorization header values; the scheme word is kept: `Bearer ***`.
    + r"|(?P<keep>(?<![A-Za-z])[Bb]earer\s{1,8})[A-Za-z0-9._~+/=\-]{16,}"
    + r"|(?P<keep_basic>(?<![A-Za-z])[Aa]uthorization:\s{0,8}[Bb]asic\s{1,8})[A-Za-z0-9+/=]{4,}"
)
_PEM_BEGIN = re.compile(r"-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY( BLOCK)?-----")
_PEM_END = re.compile(r"-----END [A-Z0-9 ]{0,40}PRIVATE KEY( BLOCK)?-----")


def _keep_scheme_word(match: re.Match[str]) -> str:
    return (match.group("keep") or match.group("keep_basic") or "") + MASK


def _mask_known_formats(text: str) -> str:
    text = _KNOWN_FORMATS.sub(_keep_scheme_word, text)
    if "PRIVATE KEY" not in text:
        return text
    # A private key block, up to its END line; a block cut short (a truncated diff) to the end.
    out, pos = [], 0
    while (begin := _PEM_BEGIN.search(text, pos)) is not None:
        end = _PEM_END.search(text, begin.end())
        out += [text[pos : begin.start()], MASK]
        pos = end.end() if end is not None else len(text)
    return "".join(out) + text[pos:]


# -- rule 2: URL credentials -----------------------------------------------------------------
_SPACE = re.compile(r"\s")
_AUTHORITY_END = re.compile(r"[/?#\s]")


def _mask_url_credentials(text: str) -> str:
    """``scheme://user:password@host`` -> ``scheme://***@host``, whatever the password holds.

    A password may contain ``/ ? # @ :`` (written unescaped by hand, as in
    ``https://bob:pa/ss@host/``), so when a ``:`` comes before the first ``/ ? #`` the
    credential runs to the LAST ``@`` of the URL (the URL ends at whitespace). Without such a
    ``:`` only a ``user@`` or ``token@`` before the first ``/ ? #`` is a credential, so
    ``git+https://github.com/o/r.git@v1.0`` and ``https://medium.com/@me`` stay as they are.
    This errs towards masking: ``https://host:8080/x?to=me@example.com`` loses ``host:8080/x?to=me``.
    """
    out: list[str] = []
    pos, token_end, last_at = 0, -1, -1
    i = text.find("://")
    while i != -1:
        start = i + 3
        if start > token_end:  # the first scheme of a new whitespace-delimited token
            space = _SPACE.search(text, start)
            token_end = space.start() if space else len(text)
            last_at = text.rfind("@", start, token_end)
        stop = _AUTHORITY_END.search(text, start, token_end)
        first_delimiter = stop.start() if stop else token_end
        if text.find(":", start, first_delimiter) != -1:
            at = last_at if last_at >= start else -1
        else:
            at = text.rfind("@", start, first_delimiter)
        if at != -1:
            out += [text[pos:start], MASK]
            pos = at
            i = text.find("://", at)
        else:
            i = text.find("://", start)
    return "".join(out) + text[pos:] if out else text


# -- rule 3: query-string and key=value credentials ------------------------------------------
# A parameter name at the start of the text or after `? & # ;`, whitespace, a quote or `+` (`;`
# separates connection-string fields: `AccountKey=`, `Password=`; whitespace and quotes put
# `token=...` in a note, a shell line or a string; `+` starts an added line of a diff, as in a
# `.env` file's `+DB_PASSWORD=...`); at most 64 characters, so each separator costs a bounded scan.
_PARAM = re.compile(r"(?:^|(?<=[?&#;\s'\"+]))([A-Za-z0-9_.\-\[\]]{1,64})=")
# The value runs to the next `&`, `#` or whitespace (not `;` or `?`: a token may hold them).
_VALUE_END = re.compile(r"[&#\s]")
# In code (the git diff), `name=value` after whitespace may be an argument (`sorted(rows, key=len)`,
# `key=lambda r: r[0]`, `token=get_token(x)`, `key=os.environ["K"]`): there a value that is a
# keyword, or a (dotted) name followed by a call, subscript, `)` or `,`, is left alone.
_CODE = re.compile(r"[A-Za-z_][\w.]*[(\[),]")


def _looks_like_code(value: str) -> bool:
    return keyword.iskeyword(value) or _CODE.match(value) is not None


def _mask_query_credentials(text: str, code: bool) -> str:
    if "=" not in text:
        return text
    out: list[str] = []
    pos, at = 0, 0
    while (param := _PARAM.search(text, at)) is not None:
        at = param.end()
        if not secret_name(param.group(1), query=True):
            continue
        end = _VALUE_END.search(text, at)
        value_end = end.start() if end else len(text)
        argument = code and param.start() > 0 and text[param.start() - 1].isspace()
        if value_end > at and not (argument and _looks_like_code(text[at:value_end])):
            out += [text[pos:at], MASK]
            pos = at = value_end
    return "".join(out) + text[pos:] if out else text


# -- rule 1: values of secret-named environment variables ------------------------------------
# The shell's own working directories, whatever the word rules say.
_NOT_SECRET_VARIABLES = frozenset({"PWD", "OLDPWD"})
# Shorter values (`1`, `true`, `none`) would mask ordinary text everywhere.
_MIN_SECRET_LENGTH = 6


@functools.lru_cache(maxsize=16)
def _secret_names(names: tuple[str, ...]) -> tuple[str, ...]:
    """The variable names that look secret (a sweep starts a run every few ms: match once)."""
    return tuple(name for name in names if name.upper() not in _NOT_SECRET_VARIABLES and secret_name(name))


def _is_existing_path(value: str) -> bool:
    """A secret-named variable that points at a file (``GOOGLE_APPLICATION_CREDENTIALS=
    /path/creds.json``) holds where the secret is, not the secret: that path is ordinary text."""
    return os.path.isabs(value) and os.path.normpath(value) == value and os.path.exists(value)


class Redactor:
    """Masks secrets in text that is about to be written (see the module docstring)."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._secrets = sorted(
            {
                value
                for name in _secret_names(tuple(environ))
                if len(value := environ[name]) >= _MIN_SECRET_LENGTH and not _is_existing_path(value)
            },
            key=len,
            reverse=True,
        )

    @property
    def multiline_secrets(self) -> tuple[str, ...]:
        """The secret values that span lines: text masked line by line must find them whole."""
        return tuple(secret for secret in self._secrets if "\n" in secret)

    def __eq__(self, other: object) -> bool:
        """Two redactors that mask the same values mask every text alike: a sweep's runs each
        make one, and reuse the git diff the previous run masked."""
        return type(other) is type(self) and other._secrets == self._secrets  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(tuple(self._secrets))

    def __call__(self, text: str, code: bool = False) -> str:
        """``text`` with its secrets masked; ``code``: it is source code (a diff), where
        ``key=len)`` is an argument, not a credential."""
        for secret in self._secrets:  # longest first, so a secret holding another goes whole
            if secret in text:
                text = text.replace(secret, MASK)
        text = _mask_known_formats(text)
        if "@" in text:
            text = _mask_url_credentials(text)
        return _mask_query_credentials(text, code)

    def params(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """String params with secrets masked, whole when the key names one (see ``param``)."""
        return {key: self.param(key, value) for key, value in params.items()}

    def param(self, key: str, value: Any) -> Any:
        """A param value: ``***`` whole when its key names a secret (``hub_token``,
        ``db.password``: Hugging Face's TrainingArguments carry ``hub_token``), else masked as text."""
        if not isinstance(value, str):
            return value
        if value and secret_name(key):
            return MASK
        return self(value)

    def argv(self, args: Iterable[str]) -> list[str]:
        """A command line with the values of secret-named flags masked: ``--api-key=X``,
        ``--password X``, and ``db.password=X`` (Hydra-style overrides), then ``self`` on each."""
        masked: list[str] = []
        hide_next = False
        for arg in args:
            if hide_next and not _NEXT_FLAG.match(arg):
                masked.append(MASK)
                hide_next = False
                continue
            hide_next = False
            assignment = _ASSIGNMENT.match(arg)
            flag = _FLAG.match(arg)
            if assignment and assignment.group(3) and secret_name(assignment.group(2)):
                arg = f"{assignment.group(1) or ''}{assignment.group(2)}={MASK}"
            elif flag and secret_name(flag.group(1)):
                hide_next = True  # `--password hunter2`: the value is the next argument
            masked.append(self(arg))
        return masked


# `--name=value`, `-name=value`, and Hydra's `name=value`, `+name=value`, `~name=value`.
_ASSIGNMENT = re.compile(r"^(--?|\+{1,2}|~)?([A-Za-z_][\w.\-/]{0,200})=(.*)$", re.S)
# A flag with its value in the next argument; the next argument is a value unless it is itself
# a `--flag` (so `--use_auth_token --output_dir x` keeps `--output_dir`).
_FLAG = re.compile(r"^--?([A-Za-z_][\w.\-]{0,200})$")
_NEXT_FLAG = re.compile(r"^--[A-Za-z]")
