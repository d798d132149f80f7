"""The auth flow stepped as tables: no sockets, no urllib3, no driver.

Each case scripts what the registry and the token server answer and states the exact
steps the flow takes (requests sent, tokens asked for, what it learns). An asyncio driver
steps the same generators, which proves the flow does no I/O of its own; a few tests at
the end exercise the urllib3 driver's own jobs (single flight, the herd rule, token
redirects), with a scripted pool standing in for the network.
"""

from __future__ import annotations

import asyncio
import io
import json
import threading
import time
from collections.abc import Generator, Mapping
from typing import Any

import attrs
import pytest
import urllib3

from registry_sdk import _token as T
from registry_sdk._credentials import Credentials
from registry_sdk._flow import (
    Context,
    Exchange,
    Learn,
    NeedToken,
    RegistryState,
    Step,
    exchange_flow,
    registry_flow,
)
from registry_sdk._http import BodyWhen, Request, Response
from registry_sdk.challenge import Challenge
from registry_sdk.errors import SecurityError, TokenExchangeError
from registry_sdk.scope import Scope
from registry_sdk.transport import Transport

REG = "https://registry.example"
REALM = "https://auth.example/token"
BEARER = f'Bearer realm="{REALM}",service="svc"'
TAGS = f"{REG}/v2/a/tags/list"
PULL = (Scope.repository("a", "pull"),)
ALICE = Credentials("alice", "pw-SECRET", origin="config.json")
CHALLENGE = Challenge("bearer", {"realm": REALM, "service": "svc"})


def answer(status: int, url: str = TAGS, body: bytes = b"", **headers: str) -> Response:
    return Response(status, {k.replace("_", "-"): v for k, v in headers.items()}, url, body)


def ctx(
    creds: Credentials = ALICE, state: RegistryState | None = None, *, replayable: bool = True
) -> Context:
    return Context(
        "registry.example", "registry.example", creds, state or RegistryState(), PULL, replayable
    )


def learned() -> RegistryState:
    return RegistryState(CHALLENGE, REG)


@attrs.frozen
class Token:
    """A scripted answer to NeedToken."""

    value: str


def run(flow: Generator[Step, Any, Any], script: list[Response | Token]) -> list[str]:
    """Step *flow* over *script*; returns a trace of its steps."""
    trace: list[str] = []
    answers = iter(script)
    try:
        step = next(flow)
        while True:
            if isinstance(step, Request):
                auth = step.authorization
                trace.append(f"{step.method} {step.url} {auth.split()[0] if auth else '-'}")
                step = flow.send(next(answers))
            elif isinstance(step, NeedToken):
                trace.append(f"token {sorted(step.key[3])} rejected={step.rejected}")
                scripted = next(answers)
                assert isinstance(scripted, Token)
                step = flow.send(T.Token(scripted.value, 1e9))
            else:
                assert isinstance(step, Learn)
                trace.append(f"learn {step.challenge.scheme if step.challenge else 'refresh'}")
                step = flow.send(None)
    except StopIteration:
        pass
    assert next(answers, None) is None, "script not used up"
    return trace


GET = Request("GET", TAGS, budget=65536, when=BodyWhen.ERRORS)

REGISTRY_CASES: list[tuple[str, Context, list[Response | Token], list[str]]] = [
    (
        "first request: 401 teaches the challenge, token, retry",
        ctx(),
        [answer(401, WWW_Authenticate=BEARER), Token("t1"), answer(200)],
        [
            f"GET {TAGS} -",
            "learn bearer",
            "token ['repository:a:pull'] rejected=None",
            f"GET {TAGS} Bearer",
        ],
    ),
    (
        "challenge known: token up front, one request",
        ctx(state=learned()),
        [Token("t1"), answer(200)],
        ["token ['repository:a:pull'] rejected=None", f"GET {TAGS} Bearer"],
    ),
    (
        "challenge scopes are merged into the retry",
        ctx(),
        [
            answer(401, WWW_Authenticate=BEARER + ',scope="repository:b:pull"'),
            Token("t1"),
            answer(200),
        ],
        [
            f"GET {TAGS} -",
            "learn bearer",
            "token ['repository:a:pull', 'repository:b:pull'] rejected=None",
            f"GET {TAGS} Bearer",
        ],
    ),
    (
        "a second 401 is final",
        ctx(state=learned()),
        [Token("t1"), answer(401, WWW_Authenticate=BEARER), Token("t1")],
        [
            "token ['repository:a:pull'] rejected=None",
            f"GET {TAGS} Bearer",
            "learn bearer",
            "token ['repository:a:pull'] rejected=t1",
        ],
    ),
    (
        "a bare 401 to a token forces one refresh",
        ctx(state=learned()),
        [Token("t1"), answer(401), Token("t2"), answer(200)],
        [
            "token ['repository:a:pull'] rejected=None",
            f"GET {TAGS} Bearer",
            "token ['repository:a:pull'] rejected=t1",
            f"GET {TAGS} Bearer",
        ],
    ),
    (
        "400 'token expired' forces one refresh (ECR)",
        ctx(state=learned()),
        [
            Token("t1"),
            answer(400, body=b'{"errors":[{"message":"Token has EXPIRED"}]}'),
            Token("t2"),
            answer(200),
        ],
        [
            "token ['repository:a:pull'] rejected=None",
            f"GET {TAGS} Bearer",
            "token ['repository:a:pull'] rejected=t1",
            f"GET {TAGS} Bearer",
        ],
    ),
    (
        "a 403 that does not say expired is final",
        ctx(state=learned()),
        [Token("t1"), answer(403, body=b"denied")],
        ["token ['repository:a:pull'] rejected=None", f"GET {TAGS} Bearer"],
    ),
    (
        "basic challenge: retry with Basic",
        ctx(),
        [answer(401, WWW_Authenticate='Basic realm="r"'), answer(200)],
        [f"GET {TAGS} -", "learn basic", f"GET {TAGS} Basic"],
    ),
    (
        "basic challenge, anonymous: the 401 is final",
        ctx(Credentials()),
        [answer(401, WWW_Authenticate='Basic realm="r"')],
        [f"GET {TAGS} -", "learn basic"],
    ),
    (
        "basic already sent and refused: final",
        ctx(state=RegistryState(Challenge("basic", {"realm": "r"}), REG)),
        [answer(401, WWW_Authenticate='Basic realm="r"')],
        [f"GET {TAGS} Basic", "learn basic"],
    ),
    (
        "a registry token goes as it is; a 401 cannot improve it",
        ctx(Credentials(registry_token="rt-SECRET")),
        [answer(401)],
        [f"GET {TAGS} Bearer"],
    ),
    (
        "a redirect target's 401 teaches nothing",
        ctx(),
        [answer(401, url="https://cdn.example/blob", WWW_Authenticate=BEARER)],
        [f"GET {TAGS} -"],
    ),
    (
        "a one-shot body is never sent twice",
        ctx(replayable=False),
        [answer(401, WWW_Authenticate=BEARER)],
        [f"GET {TAGS} -", "learn bearer"],
    ),
    (
        "an unparsable challenge is not learned",
        ctx(),
        [answer(401, WWW_Authenticate='Bearer realm="unterminated')],
        [f"GET {TAGS} -"],
    ),
]


@pytest.mark.parametrize(
    ("name", "context", "script", "trace"), REGISTRY_CASES, ids=[c[0] for c in REGISTRY_CASES]
)
def test_registry_flow(
    name: str, context: Context, script: list[Response | Token], trace: list[str]
) -> None:
    """The registry flow takes exactly the scripted steps."""
    assert run(registry_flow(GET, context), script) == trace


def exchange(
    creds: Credentials = ALICE, *, refresh: str = "", realm: str = REALM, origin: str = REG
) -> Exchange:
    challenge = Challenge("bearer", {"realm": realm, "service": "svc"})
    return Exchange("registry.example", origin, challenge, PULL, creds, refresh)


def token_body(value: str, **extra: object) -> bytes:
    return json.dumps({"token": value, **extra}).encode()


def run_exchange(x: Exchange, script: list[Response]) -> tuple[list[str], T.Token]:
    trace: list[str] = []
    flow = exchange_flow(x)
    answers = iter(script)
    try:
        step = next(flow)
        while True:
            if isinstance(step, Request):
                auth = step.authorization
                trace.append(
                    f"{step.method} {step.url.split('?')[0]} {auth.split()[0] if auth else '-'}"
                )
                step = flow.send(next(answers))
            else:
                assert isinstance(step, Learn) and step.refresh is not None
                trace.append("learn refresh")
                step = flow.send(None)
    except StopIteration as done:
        return trace, done.value
    raise AssertionError("unreachable")


def test_exchange_get_with_basic() -> None:
    """Username and password: GET with Basic to the realm."""
    trace, token = run_exchange(exchange(), [answer(200, REALM, token_body("t1"))])
    assert trace == [f"GET {REALM} Basic"] and token.value == "t1"


def test_exchange_identity_token_posts_and_learns_rotation() -> None:
    """An identity token: OAuth2 POST; a rotated refresh token is learned."""
    x = exchange(Credentials(identity_token="id-SECRET"))
    trace, token = run_exchange(
        x, [answer(200, REALM, token_body("t1", refresh_token="r2-SECRET"))]
    )
    assert trace == [f"POST {REALM} -", "learn refresh"] and token.value == "t1"


def test_exchange_post_refused_falls_back_to_get() -> None:
    """A token server without OAuth2 POST (404): the GET flow."""
    x = exchange(attrs.evolve(ALICE, identity_token="id-SECRET"))
    trace, _ = run_exchange(x, [answer(404, REALM), answer(200, REALM, token_body("t"))])
    assert trace == [f"POST {REALM} -", f"GET {REALM} Basic"]


def test_exchange_follows_a_same_host_redirect_with_credentials() -> None:
    """A token server redirecting on its own host keeps the Basic credentials."""
    moved = "https://auth.example/v2/token"
    trace, _ = run_exchange(
        exchange(), [answer(302, REALM, Location=moved), answer(200, moved, token_body("t"))]
    )
    assert trace == [f"GET {REALM} Basic", f"GET {moved} Basic"]


def test_exchange_drops_credentials_on_a_cross_host_redirect() -> None:
    """Another (valid) host: followed, without Authorization."""
    moved = "https://auth2.example/token"
    trace, _ = run_exchange(
        exchange(), [answer(307, REALM, Location=moved), answer(200, moved, token_body("t"))]
    )
    assert trace == [f"GET {REALM} Basic", f"GET {moved} -"]


@pytest.mark.parametrize(
    "location",
    [
        "http://169.254.169.254/latest/meta-data/",
        "https://169.254.169.254/latest/meta-data/",
        "http://auth.example/token",
        "https://10.0.0.7/token",
        "https://127.0.0.1/token",
        "https://localhost/token",
        "ftp://auth.example/token",
    ],
)
def test_exchange_refuses_an_invalid_redirect_hop(location: str) -> None:
    """Every hop is validated as a realm (rule 3) before it is requested."""
    flow = exchange_flow(exchange())
    first = next(flow)
    assert isinstance(first, Request)
    with pytest.raises(SecurityError) as info:
        flow.send(answer(302, REALM, Location=location))
    assert info.value.rule == "redirect"


def test_exchange_refuses_a_post_body_redirected_to_another_host() -> None:
    """A 307 would re-send the refresh token in the body to another host: refused."""
    flow = exchange_flow(exchange(Credentials(identity_token="id-SECRET")))
    next(flow)
    with pytest.raises(SecurityError) as info:
        flow.send(answer(307, REALM, Location="https://auth2.example/token"))
    assert info.value.rule == "redirect"


@pytest.mark.parametrize(
    ("creds", "words"),
    [
        (ALICE, "refused user 'alice' from config.json"),
        (Credentials(), "refused no credentials (anonymous)"),
    ],
)
def test_exchange_refusal_says_who(creds: Credentials, words: str) -> None:
    """A 401 from the token server names the user and where the credentials came from."""
    flow = exchange_flow(exchange(creds))
    next(flow)
    with pytest.raises(TokenExchangeError) as info:
        flow.send(answer(401, REALM, b'{"details":"pw-SECRET wrong"}'))
    assert words in str(info.value)
    assert info.value.username == creds.username and info.value.status == 401
    assert "SECRET" not in str(info.value)


@pytest.mark.parametrize(
    ("realm", "origin", "ok"),
    [
        ("https://auth.example/t", "https://registry.example", True),
        ("http://auth.example/t", "https://registry.example", False),
        ("http://127.0.0.1:9/t", "http://localhost:5000", True),  # one machine
        ("http://localhost:9/t", "http://127.0.0.1:5000", True),
        ("https://127.0.0.1/t", "https://registry.example", False),
        ("https://localhost/t", "https://registry.example", False),
        ("https://10.1.2.3/t", "https://10.1.2.3:5000", True),
        ("https://10.1.2.3/t", "https://10.1.2.4", False),
        ("https://169.254.169.254/t", "https://169.254.169.254", False),
    ],
)
def test_realm_validation(realm: str, origin: str, ok: bool) -> None:
    """Rule 3, including the loopback rule (any loopback realm for a loopback registry)."""
    if ok:
        assert T.validate_realm(realm, origin) == realm
    else:
        with pytest.raises(SecurityError):
            T.validate_realm(realm, origin)


# ------------------------------------------------------------------ an asyncio driver


class AsyncDriver:
    """A minimal asyncio driver over the same flows (standard library only).

    Answers come from *routes* by URL after an `await`, as a network would; tokens are
    single-flight under asyncio.Lock per key; what the registry teaches is kept in one
    RegistryState swapped whole.
    """

    def __init__(self, routes: Mapping[str, list[Response]], state: RegistryState) -> None:
        self.queues = {url: list(answers) for url, answers in routes.items()}
        self.cache = T.TokenCache()
        self.locks: dict[object, asyncio.Lock] = {}
        self.state = state
        self.exchanges = 0

    async def send(self, req: Request) -> Response:
        await asyncio.sleep(0.001)
        return self.queues[req.url.split("?")[0]].pop(0)

    async def token(self, step: NeedToken) -> T.Token:
        async with self.locks.setdefault(step.key, asyncio.Lock()):
            if step.rejected:
                self.cache.invalidate(step.key, step.rejected)
            found = self.cache.get(step.key)
            if found is not None:
                return found
            flow = exchange_flow(attrs.evolve(step.exchange, clock=self.cache.now))
            item: Any = next(flow)
            try:
                while True:
                    if isinstance(item, Request):
                        item = flow.send(await self.send(item))
                    else:
                        self.state = self.state._learn(item)
                        item = flow.send(None)
            except StopIteration as done:
                self.exchanges += 1
                self.cache.put(step.key, done.value)
                return done.value  # type: ignore[no-any-return]
        raise AssertionError("unreachable")

    async def request(self, request: Request, creds: Credentials) -> Response:
        flow = registry_flow(
            request, Context("registry.example", "registry.example", creds, self.state, PULL)
        )
        last: Response | None = None
        step: Any = next(flow)
        try:
            while True:
                if isinstance(step, Request):
                    last = await self.send(step)
                    step = flow.send(last)
                elif isinstance(step, NeedToken):
                    step = flow.send(await self.token(step))
                else:
                    self.state = self.state._learn(step)
                    step = flow.send(None)
        except StopIteration:
            pass
        assert last is not None
        return last


def test_asyncio_driver_steps_the_same_flow() -> None:
    """The flow needs nothing but its answers: an asyncio driver runs it unchanged."""
    driver = AsyncDriver(
        {
            TAGS: [answer(401, WWW_Authenticate=BEARER), answer(200)],
            REALM: [answer(200, REALM, token_body("t1"))],
        },
        RegistryState(),
    )
    final = asyncio.run(driver.request(GET, ALICE))
    assert final.status == 200 and driver.exchanges == 1
    assert driver.state.challenge == CHALLENGE


def test_asyncio_driver_many_tasks_one_exchange() -> None:
    """Eight concurrent asyncio requests share one token exchange."""
    driver = AsyncDriver(
        {TAGS: [answer(200) for _ in range(8)], REALM: [answer(200, REALM, token_body("t1"))]},
        learned(),
    )

    async def many() -> list[Response]:
        return await asyncio.gather(*(driver.request(GET, ALICE) for _ in range(8)))

    assert [r.status for r in asyncio.run(many())] == [200] * 8
    assert driver.exchanges == 1


# ----------------------------------------------------------------- the urllib3 driver


def raw(status: int, body: bytes = b"", **headers: str) -> urllib3.HTTPResponse:
    hdrs = {k.replace("_", "-"): v for k, v in headers.items()}
    return urllib3.HTTPResponse(
        body=io.BytesIO(body), status=status, headers=hdrs, preload_content=False
    )


class SlowTokenPool:
    """The registry answers 200; the token server answers slowly, counting requests."""

    def __init__(self) -> None:
        self.token_requests = 0
        self.lock = threading.Lock()

    def request(self, method: str, url: str, **_: object) -> urllib3.HTTPResponse:
        if url.startswith(REALM):
            with self.lock:
                self.token_requests += 1
                value = f"t{self.token_requests}"
            time.sleep(0.05)
            return raw(200, token_body(value))
        return raw(200, b"{}")


def driver(pool: object) -> Transport:
    t = Transport("registry.example", ALICE, pool=pool)  # type: ignore[arg-type]
    t._store._learn("registry.example", Learn(CHALLENGE, REG))
    return t


def test_driver_single_flight() -> None:
    """Sixteen threads needing one token cause one exchange."""
    pool = SlowTokenPool()
    t = driver(pool)
    threads = [threading.Thread(target=t.request, args=("GET", TAGS)) for _ in range(16)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert pool.token_requests == 1


def test_driver_many_rejections_of_one_token_cause_one_refresh() -> None:
    """Sixteen refusals of token t1: one refresh (each forgets only the token it sent)."""
    pool = SlowTokenPool()
    t = driver(pool)
    step = NeedToken(
        ("registry.example", REALM, "svc", frozenset({"repository:a:pull"}), ALICE),
        exchange(),
        None,
    )
    assert t._token(step).value == "t1"
    for _ in range(16):
        assert t._token(attrs.evolve(step, rejected="t1")).value == "t2"
    assert pool.token_requests == 2


@pytest.mark.parametrize(
    "realm",
    [
        "http://2130706433/token",
        "http://127.1/token",
        "http://0x7f000001/token",
        "http://0177.0.0.1/token",
        "http://0/token",
        "http://localhost./token",
        "http://foo.localhost./token",
        "http://[::ffff:127.0.0.1]/token",
        "http://2852039166/latest/meta-data/",
        "http://0xa9fea9fe/",
        "http://0251.0376.0251.0376/",
        "http://169.254.43518/",
        "http://10.1/token",
        "http://167772161/token",
        "http://100.100.100.200/latest/meta-data/",
        "http://127.0.0.1:9\\@registry.example.com/token",
    ],
)
def test_realm_spellings_of_local_addresses_are_refused(realm: str) -> None:
    """Other spellings of loopback, private and metadata addresses (as inet_aton and
    urllib3 read them) are refused for a registry elsewhere, and so is a host that two
    URL parsers read differently (rule 3)."""
    with pytest.raises(SecurityError):
        T.validate_realm(realm, "http://registry.example.com")


def test_an_ipv6_loopback_registry_may_use_its_realm() -> None:
    """[::1] is loopback, not merely reserved: a registry there may use a realm there."""
    assert T.validate_realm("http://[::1]:5000/token", "http://[::1]:5000")
    assert T.validate_realm("http://127.1:5001/token", "http://localhost:5000")
