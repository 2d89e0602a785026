"""Egress: the one policy for every outbound HTTP connection the gateway makes.

Webhook deliveries, AS2 sends and queued asynchronous MDNs all go through :class:`Egress`.
Responsible for

- which destinations may be reached: the host is resolved once and every address it
  resolves to is judged; loopback, link-local (169.254.169.254 included), private
  (RFC 1918, ULA, carrier-grade NAT), unspecified, multicast and other special-purpose
  addresses (RFC 6890), and IPv6 forms that embed such an IPv4 address, are refused unless
  ``EDIGATE_EGRESS_ALLOW`` lets them through (:class:`EgressPolicy`);
- connecting to the very address that was judged: the check happens inside the HTTP
  client's connect step (an httpcore network backend), so there is no second resolution a
  DNS rebinding could answer differently; TLS still verifies the certificate for the URL's
  host name (SNI and hostname check use the name, not the address);
- a total deadline per attempt: resolving, connecting, sending and every read share one
  clock, so a peer that trickles a header line every few seconds cannot hold a sender past
  ``EDIGATE_EGRESS_DEADLINE_SECONDS`` (httpx's own timeouts are per operation);
- :class:`OutboundPool`: a bounded set of sender threads with a per-destination limit, so
  that a destination that hangs only occupies its own slots.

A refused destination raises :class:`EgressRefused`; everything else the network does is
an ordinary ``httpx`` error. It must not know about webhooks, AS2 or the database: callers
decide what a refusal or a failure means for their queue. Environment proxies are ignored
(``trust_env=False``): a proxy would be checked instead of the destination.
"""

from __future__ import annotations

import contextvars
import ipaddress
import logging
import select
import socket
import ssl
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

from gateway.runtime.settings import Settings

__all__ = [
    "ALLOWABLE",
    "Claim",
    "Destination",
    "Egress",
    "EgressPolicy",
    "EgressRefused",
    "Job",
    "OutboundPool",
    "destination",
    "public_url",
]

log = logging.getLogger("edigate.egress")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Destination = tuple[str, str, int]
"""(scheme, host, port) of a URL: what per-destination limits count."""


def _nets(*cidrs: str) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(c) for c in cidrs)


# Special-purpose ranges by the name a refusal gives them (IANA IPv4/IPv6 Special-Purpose
# Address Registries, RFC 6890). Order matters only for the name a refusal uses.
_CATEGORIES: tuple[tuple[str, tuple[IPNetwork, ...]], ...] = (
    ("loopback", _nets("127.0.0.0/8", "::1/128")),                       # RFC 1122, 4291
    ("link-local", _nets("169.254.0.0/16", "fe80::/10")),                # RFC 3927, 4291
    ("private", _nets("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",   # RFC 1918
                      "100.64.0.0/10",                                   # RFC 6598 CGNAT
                      "fc00::/7",                                        # RFC 4193 ULA
                      "fec0::/10")),                                     # RFC 3879 site-local
    ("unspecified", _nets("0.0.0.0/8", "::/128")),                       # RFC 1122, 4291
    ("multicast", _nets("224.0.0.0/4", "ff00::/8")),                     # RFC 5771, 4291
    ("reserved", _nets("192.0.0.0/24", "192.0.2.0/24", "198.18.0.0/15",  # RFC 6890, 5737,
                       "198.51.100.0/24", "203.0.113.0/24",              # 2544
                       "240.0.0.0/4",                                    # RFC 1112 (+ broadcast)
                       "100::/64", "2001::/23", "2001:db8::/32")),       # RFC 6666, 2928, 3849
)

ALLOWABLE = frozenset({"loopback", "private", "link-local"})
"""The range names ``EDIGATE_EGRESS_ALLOW`` accepts beside CIDRs; the others (multicast,
unspecified, reserved) are never a web server's address and can only be allowed by CIDR."""

_NAT64 = _nets("64:ff9b::/96", "64:ff9b:1::/48")  # RFC 6052, RFC 8215
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")  # RFC 4291 §2.5.5.1 (deprecated)


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address leads to: IPv4-mapped, IPv4-compatible, 6to4 and
    NAT64 forms reach the embedded address, so that is the one to judge."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    packed = address.packed
    if any(address in net for net in _NAT64):
        return ipaddress.IPv4Address(packed[-4:])
    if address in _IPV4_COMPATIBLE and int(address) > 1:  # not :: nor ::1
        return ipaddress.IPv4Address(packed[-4:])
    return None


def category(address: IPAddress) -> str | None:
    """The special-purpose range ``address`` (or the IPv4 address it embeds) is in, or
    None for an ordinary global address."""
    target: IPAddress = _embedded_ipv4(address) or address
    for name, networks in _CATEGORIES:
        if any(net.version == target.version and target in net for net in networks):
            return name
    if not target.is_global:  # whatever else the registries mark as not forwardable
        return "reserved"
    return None


class EgressRefused(Exception):
    """The policy refuses this destination: retrying will not help until an operator
    changes ``EDIGATE_EGRESS_ALLOW`` (or the name's DNS records change)."""


@dataclass(frozen=True)
class EgressPolicy:
    """Which destination addresses outbound connections may reach.

    ``allow``: range names from :data:`ALLOWABLE` let through; ``networks``: CIDRs let
    through whatever range they are in. The default refuses every special-purpose range.
    """

    allow: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, text: str) -> EgressPolicy:
        """From ``EDIGATE_EGRESS_ALLOW``: a comma list of CIDRs and range names."""
        allow: set[str] = set()
        networks: list[IPNetwork] = []
        for item in (part.strip() for part in text.split(",")):
            if not item:
                continue
            if item.lower() in ALLOWABLE:
                allow.add(item.lower())
                continue
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                raise ValueError(
                    f"EDIGATE_EGRESS_ALLOW: {item!r} is neither a CIDR nor one of "
                    f"{', '.join(sorted(ALLOWABLE))}") from None
        return cls(frozenset(allow), tuple(networks))

    @classmethod
    def from_settings(cls, settings: Settings) -> EgressPolicy:
        return cls.parse(settings.egress_allow)

    def refusal(self, address: IPAddress) -> str | None:
        """Why ``address`` may not be reached, or None when it may."""
        embedded = _embedded_ipv4(address)
        for candidate in (address, embedded):
            if candidate is not None and any(
                    net.version == candidate.version and candidate in net
                    for net in self.networks):
                return None
        kind = category(address)
        if kind is None or kind in self.allow:
            return None
        shown = f"{address} (IPv4 {embedded})" if embedded is not None else str(address)
        hint = (f"add {kind!r} or a CIDR to EDIGATE_EGRESS_ALLOW to let it through"
                if kind in ALLOWABLE else "only a CIDR in EDIGATE_EGRESS_ALLOW lets it through")
        return f"{shown} is a {kind} address; {hint}"

    def resolve(self, host: str, port: int, *, deadline: float | None = None,
                ) -> list[tuple[socket.AddressFamily, tuple[Any, ...]]]:
        """The socket addresses to connect to for ``host``, all of them judged, or
        ``EgressRefused`` when any is refused.

        Any, not just the first: a name that resolves to an internal address as well as a
        public one points into the internal network, and which one a client picks is not
        something to rely on. A name that does not resolve raises ``OSError``.
        """
        literal = _literal(host)
        if literal is not None:
            family = socket.AF_INET6 if literal.version == 6 else socket.AF_INET
            found = [(family, (str(literal), port))]
        else:
            found = [(family, sockaddr) for family, _, _, _, sockaddr
                     in _getaddrinfo(host, port, deadline)]
        if not found:
            raise OSError(f"{host} resolves to no address")
        for _family, sockaddr in found:
            address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
            reason = self.refusal(address)
            if reason is not None:
                named = "" if literal is not None else f"{host} resolves to "
                raise EgressRefused(f"refused by the egress policy: {named}{reason}")
        return found

    def check_url(self, url: str, *, resolve: bool = True) -> None:
        """``EgressRefused`` when ``url`` is not http(s) or its host is refused.

        With ``resolve`` a name is looked up too; a name that does not resolve now passes
        (the check at connect time decides then).
        """
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise EgressRefused(f"refused by the egress policy: {url!r} is not an "
                                "http(s) URL with a host")
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
        if _literal(parts.hostname) is None and not resolve:
            return
        try:
            self.resolve(parts.hostname, port, deadline=time.monotonic() + 10)
        except EgressRefused:
            raise
        except OSError:
            return


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


def _getaddrinfo(host: str, port: int, deadline: float | None) -> list[Any]:
    """``socket.getaddrinfo`` bounded by ``deadline``: the resolver has no timeout of its
    own, so it runs on a thread of its own that is abandoned when the deadline passes."""
    result: list[Any] = []
    error: list[BaseException] = []

    def lookup() -> None:
        try:
            result.extend(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except BaseException as exc:  # handed to the waiting thread
            error.append(exc)

    if deadline is None:
        lookup()
    else:
        thread = threading.Thread(target=lookup, name=f"resolve:{host}"[:60], daemon=True)
        thread.start()
        thread.join(max(0.0, deadline - time.monotonic()))
        if thread.is_alive():
            raise TimeoutError(f"resolving {host} did not finish before the deadline")
    if error:
        raise error[0]
    return result


# -- the deadline -----------------------------------------------------------------------

@dataclass(frozen=True)
class _Deadline:
    at: float
    seconds: float


_DEADLINE: contextvars.ContextVar[_Deadline | None] = contextvars.ContextVar(
    "edigate_egress_deadline", default=None)


def _bounded(timeout: float | None, expired: type[httpcore.TimeoutException]) -> float | None:
    """``timeout`` cut to what is left of the current attempt's deadline."""
    deadline = _DEADLINE.get()
    if deadline is None:
        return timeout
    left = deadline.at - time.monotonic()
    if left <= 0:
        raise expired(f"the attempt's total deadline of {deadline.seconds:g} s passed")
    return left if timeout is None else min(timeout, left)


class _Stream(httpcore.NetworkStream):
    """A blocking socket whose every operation is bounded by the attempt's deadline."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        self._sock.settimeout(_bounded(timeout, httpcore.ReadTimeout))
        try:
            return self._sock.recv(max_bytes)
        except TimeoutError as exc:
            raise httpcore.ReadTimeout(_expired("reading")) from exc
        except OSError as exc:
            raise httpcore.ReadError(str(exc)) from exc

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        view = memoryview(buffer)
        while view:
            self._sock.settimeout(_bounded(timeout, httpcore.WriteTimeout))
            try:
                sent = self._sock.send(view)
            except TimeoutError as exc:
                raise httpcore.WriteTimeout(_expired("writing")) from exc
            except OSError as exc:
                raise httpcore.WriteError(str(exc)) from exc
            view = view[sent:]

    def close(self) -> None:
        self._sock.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        self._sock.settimeout(_bounded(timeout, httpcore.ConnectTimeout))
        try:
            # server_hostname is the URL's host name: SNI and certificate check use it.
            wrapped = ssl_context.wrap_socket(self._sock, server_hostname=server_hostname)
        except TimeoutError as exc:
            self._sock.close()
            raise httpcore.ConnectTimeout(_expired("the TLS handshake")) from exc
        except OSError as exc:  # ssl.SSLError included
            self._sock.close()
            raise httpcore.ConnectError(str(exc)) from exc
        return _Stream(wrapped)

    def get_extra_info(self, info: str) -> Any:
        if info == "ssl_object":
            return self._sock if isinstance(self._sock, ssl.SSLSocket) else None
        if info == "client_addr":
            return self._sock.getsockname()
        if info == "server_addr":
            return self._sock.getpeername()
        if info == "socket":
            return self._sock
        if info == "is_readable":
            # An idle kept-alive connection that is readable was closed by the peer.
            try:
                readable, _, _ = select.select([self._sock], [], [], 0)
            except (OSError, ValueError):
                return True
            return bool(readable)
        return None


def _expired(what: str) -> str:
    deadline = _DEADLINE.get()
    if deadline is not None and deadline.at - time.monotonic() <= 0.05:
        return f"the attempt's total deadline of {deadline.seconds:g} s passed while {what}"
    return f"timed out {what}"


class _CheckedBackend(httpcore.NetworkBackend):
    """Resolves, judges and connects in one step: the address connected to is the one the
    policy checked."""

    def __init__(self, policy: EgressPolicy) -> None:
        self.policy = policy

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        limit = _bounded(timeout, httpcore.ConnectTimeout)
        try:
            addresses = self.policy.resolve(
                host, port, deadline=time.monotonic() + limit if limit is not None else None)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(str(exc)) from exc
        except OSError as exc:  # socket.gaierror: the name does not resolve
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        failure: OSError | None = None
        for family, sockaddr in addresses:
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                for option in socket_options or ():
                    sock.setsockopt(*option)
                if local_address:
                    sock.bind((local_address, 0))
                sock.settimeout(_bounded(timeout, httpcore.ConnectTimeout))
                sock.connect(sockaddr)
            except TimeoutError as exc:
                sock.close()
                raise httpcore.ConnectTimeout(_expired(f"connecting to {host}")) from exc
            except httpcore.ConnectTimeout:
                sock.close()
                raise
            except OSError as exc:
                sock.close()
                failure = exc
                continue
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return _Stream(sock)
        assert failure is not None
        raise httpcore.ConnectError(str(failure))

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[Any] | None = None
                            ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("unix sockets are not an outbound destination")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class Egress:
    """An HTTP client bound to the policy and the per-attempt deadline; thread-safe.

    Use :meth:`stream` for every request (its deadline covers the whole ``with`` block,
    body reads included), and close the instance when done. ``verify``: the TLS context
    (default: the system's CA bundle via httpx, certificate and host name checked).
    """

    def __init__(self, policy: EgressPolicy, *, deadline_seconds: float = 30.0,
                 user_agent: str = "edigate", verify: ssl.SSLContext | None = None) -> None:
        self.policy = policy
        self.deadline_seconds = deadline_seconds
        transport = httpx.HTTPTransport(trust_env=False)
        # httpx has no public seam for an httpcore network backend: the transport's pool
        # is replaced by one that connects through the policy. test_egress pins this.
        transport._pool.close()
        transport._pool = httpcore.ConnectionPool(
            ssl_context=verify or httpx.create_ssl_context(trust_env=False),
            max_connections=100, max_keepalive_connections=20, keepalive_expiry=5.0,
            network_backend=_CheckedBackend(policy))
        self.client = httpx.Client(transport=transport, trust_env=False,
                                   follow_redirects=False, timeout=deadline_seconds,
                                   headers={"User-Agent": user_agent})

    @classmethod
    def from_settings(cls, settings: Settings, *, user_agent: str = "edigate",
                      deadline_seconds: float | None = None) -> Egress:
        seconds = settings.egress_deadline_seconds
        if deadline_seconds is not None:
            seconds = min(seconds, deadline_seconds)
        return cls(EgressPolicy.from_settings(settings), deadline_seconds=seconds,
                   user_agent=user_agent)

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Egress:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @contextmanager
    def stream(self, method: str, url: str, *, content: bytes = b"",
               headers: Mapping[str, str] | None = None) -> Iterator[httpx.Response]:
        """One attempt: ``EgressRefused`` for a refused destination, an ``httpx`` error for
        anything the network does, a ``httpx.TimeoutException`` once the deadline passed."""
        self.policy.check_url(url, resolve=False)  # the scheme, and literal addresses
        token = _DEADLINE.set(_Deadline(time.monotonic() + self.deadline_seconds,
                                        self.deadline_seconds))
        try:
            with self.client.stream(method, url, content=content,
                                    headers=dict(headers or {})) as response:
                yield response
        finally:
            _DEADLINE.reset(token)


def destination(url: str) -> Destination:
    """The (scheme, host, port) a URL connects to, for per-destination limits."""
    try:
        parts = urlsplit(url.strip())
        scheme = parts.scheme.lower()
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        return ("", url, 0)
    return (scheme, (parts.hostname or "").lower(), port)


def public_url(url: str) -> str:
    """The URL as the ledger keeps it: a query string may carry a token, so it is elided."""
    parts = urlsplit(url)
    return parts._replace(query="...").geturl() if parts.query else url


# -- the pool ---------------------------------------------------------------------------

Job = tuple[Destination, Callable[[], object]]
"""A claimed attempt: where it goes, and the call that sends it and records the outcome."""
Claim = Callable[[Collection[Destination]], Job | None]
"""Claims one attempt not bound for the given (full) destinations, or None."""


class OutboundPool:
    """At most ``size`` attempts in flight, and at most ``per_destination`` to any one
    destination: a destination that hangs holds its own slots and no others.

    Work is pulled, not pushed: :meth:`dispatch` calls the claim function only when a
    thread is free, telling it which destinations are full, so nothing is claimed that
    would then wait (a claim's lease starts at once, and must not be spent queueing).
    """

    def __init__(self, size: int, per_destination: int, name: str = "egress") -> None:
        self.size = size
        self.per_destination = per_destination
        self._busy: Counter[Destination] = Counter()
        self._running = 0
        self._room = threading.Condition()
        self._executor = ThreadPoolExecutor(max_workers=size, thread_name_prefix=name)

    def full(self) -> frozenset[Destination]:
        """Destinations with ``per_destination`` attempts in flight."""
        with self._room:
            return frozenset(d for d, n in self._busy.items() if n >= self.per_destination)

    def in_flight(self, to: Destination | None = None) -> int:
        with self._room:
            return self._running if to is None else self._busy[to]

    def dispatch(self, claim: Claim) -> bool:
        """Claim one attempt (``claim`` is told the full destinations) and start it; False
        when no thread is free or nothing could be claimed."""
        with self._room:
            if self._running >= self.size:
                return False
            job = claim(frozenset(d for d, n in self._busy.items()
                                  if n >= self.per_destination))
            if job is None:
                return False
            target, send = job
            self._running += 1
            self._busy[target] += 1
        self._executor.submit(self._run, target, send)
        return True

    def wait_for_room(self, timeout: float) -> None:
        """Return when a thread is free, or after ``timeout`` seconds."""
        with self._room:
            self._room.wait_for(lambda: self._running < self.size, timeout)

    def _run(self, target: Destination, send: Callable[[], object]) -> None:
        try:
            send()
        except Exception:  # the attempt's own bookkeeping failed; its lease recovers it
            log.exception("outbound attempt to %s://%s:%d failed", *target)
        finally:
            with self._room:
                self._running -= 1
                self._busy[target] -= 1
                if not self._busy[target]:
                    del self._busy[target]
                self._room.notify_all()

    def shutdown(self, wait: bool = True) -> None:
        self._executor.shutdown(wait=wait, cancel_futures=True)
