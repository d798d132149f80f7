"""Hypothesis strategies for reference parts, built from the grammar's productions."""

from __future__ import annotations

from hypothesis import strategies as st

_LOWER = "abcdefghijklmnopqrstuvwxyz0123456789"
_ALNUM = _LOWER + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

alnum = st.text(_LOWER, min_size=1, max_size=6)
separator = st.sampled_from([".", "_", "__", "-", "--", "---"])


@st.composite
def path_component(draw: st.DrawFn) -> str:
    """`lower-alnum *( separator lower-alnum )`."""
    parts = [draw(alnum)]
    for _ in range(draw(st.integers(0, 2))):
        parts += [draw(separator), draw(alnum)]
    return "".join(parts)


paths = (
    st.lists(path_component(), min_size=1, max_size=4).map("/".join).filter(lambda p: len(p) <= 200)
)


@st.composite
def domain_component(draw: st.DrawFn) -> str:
    """`ALNUM / ALNUM *( ALNUM / "-" ) ALNUM`."""
    first = draw(st.sampled_from(_ALNUM))
    middle = draw(st.text(_ALNUM + "-", max_size=5))
    return first + (middle + draw(st.sampled_from(_ALNUM)) if middle else "")


@st.composite
def domains(draw: st.DrawFn) -> str:
    """A registry with a dot or a port (so Docker normalisation keeps it as a domain)."""
    host = draw(
        st.one_of(
            st.lists(domain_component(), min_size=2, max_size=3).map(".".join),
            st.just("localhost"),
            st.text("0123456789abcdef:", min_size=1, max_size=8).map(lambda h: f"[{h}]"),
        )
    )
    port = draw(st.one_of(st.none(), st.integers(1, 65535)))
    if port is None and not ("." in host or host == "localhost"):
        port = 5000
    return host if port is None else f"{host}:{port}"


tags = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}", fullmatch=True)
digests = st.one_of(
    st.text("0123456789abcdef", min_size=64, max_size=64).map(lambda h: f"sha256:{h}"),
    st.text("0123456789abcdef", min_size=128, max_size=128).map(lambda h: f"sha512:{h}"),
)


@st.composite
def references(draw: st.DrawFn) -> str:
    """A valid reference string in any of its shapes."""
    name = draw(paths)
    domain = draw(st.one_of(st.none(), domains()))
    if domain is None and "." in name.partition("/")[0]:
        domain = "example.com"  # Docker would read that first component as a registry
    text = name if domain is None else f"{domain}/{name}"
    if draw(st.booleans()):
        text += ":" + draw(tags)
    if draw(st.booleans()):
        text += "@" + draw(digests)
    return text
