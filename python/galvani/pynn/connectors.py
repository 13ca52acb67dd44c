"""PyNN's standard connectors on galvani's own connection rules, and ``NativeRNG``.

A projection whose connector and synaptic values galvani can draw itself becomes one
``[[projection]]`` with a connection rule, as in a TOML config; the connections are then
drawn in Rust when the network is built (seeded by ``setup(seed=...)``), without a
Python array per connection:

=================================  ==================================================
PyNN                               galvani ``connect``
=================================  ==================================================
AllToAllConnector                  ``all_to_all`` (``autapses``)
OneToOneConnector                  ``one_to_one`` (populations of equal size)
FixedProbabilityConnector          ``fixed_probability`` (``p``, ``autapses``)
FixedNumberPreConnector            ``fixed_indegree`` (``k``, ``autapses``, ``multapses``)
FixedNumberPostConnector           ``fixed_outdegree`` (``k``, ``autapses``, ``multapses``)
FixedTotalNumberConnector          ``fixed_total_number`` (``n``, ``autapses``, ``multapses``)
=================================  ==================================================

(``allow_self_connections`` is ``autapses``, ``with_replacement`` is ``multapses``;
galvani's ``fixed_total_number`` honours both, where PyNN 0.13's own drawing ignores
them and always draws with replacement and self-connections.)
Weights and delays may be numbers or ``RandomDistribution``s galvani draws:
``uniform``, ``normal`` and ``normal_clipped`` (bounds as redraw bounds) and
``lognormal``, as long as a weight distribution keeps one sign (galvani's rule; e.g. a
``normal`` weight needs ``normal_clipped`` with ``low >= 0``) and a delay
distribution stays >= 0.

Which generator draws follows pyNN.nest's convention: galvani draws when the random
generator is the backend's own, that is a ``NativeRNG`` or none given (a connector
created without ``rng``; a ``RandomDistribution`` without ``rng``, i.e. with an unseeded
``NumpyRNG``). A script that passes its own generator (``NumpyRNG(seed=...)``) gets
PyNN's own drawing, connection for connection the same as on any other backend; so do
the connectors galvani has no rule for (``FromListConnector``, ``ArrayConnector``,
distance-dependent ones, ...), projections between views or assemblies, and weights or
delays given as arrays or functions. Those connections become an edge list
(``Network.add_edges``).

Reading or changing the connections of a natively drawn projection (``get``, ``set``
with arrays, ``save``, ``connections``, ``len`` of a ``fixed_probability`` projection)
draws them in Python instead (PyNN's drawing with the connector's generator), so that
what is read is what is simulated; for ``all_to_all`` and ``one_to_one`` with constant
weights and delays that is the same network, for the others it is only possible before
the first run (galvani cannot read its drawn connections back).
"""

import functools
import inspect
import math
from numbers import Integral, Real

from pyNN import connectors as _pc
from pyNN import random as _pr


class NativeRNG(_pr.NativeRNG, _pr.NumpyRNG):
    """Signals that galvani draws these random numbers with its own generator (seeded by
    ``setup(seed=...)``; the ``seed`` given here seeds only PyNN's drawing) wherever it
    has a rule for them. Where PyNN has to draw instead (see the module's docstring), it
    draws as a ``NumpyRNG`` with this seed."""

    def __init__(self, seed=None, parallel_safe=True):
        _pr.NumpyRNG.__init__(self, seed, parallel_safe)

    def __deepcopy__(self, memo):
        obj = _pr.NumpyRNG.__deepcopy__(self, memo)
        obj.__class__ = NativeRNG
        return obj


def _remember_rng(base):
    """``base`` with a record of whether the script passed an ``rng`` (PyNN replaces a
    missing one by ``NumpyRNG(seed=151985012)``, which cannot be told from a script's
    own afterwards)."""
    sig = inspect.signature(base.__init__)

    @functools.wraps(base.__init__)
    def __init__(self, *args, **kwargs):
        base.__init__(self, *args, **kwargs)
        self._galvani_default_rng = sig.bind(self, *args, **kwargs).arguments.get("rng") is None

    return type(base.__name__, (base,), {"__init__": __init__, "__doc__": base.__doc__,
                                         "__module__": __name__})


FixedProbabilityConnector = _remember_rng(_pc.FixedProbabilityConnector)
FixedNumberPreConnector = _remember_rng(_pc.FixedNumberPreConnector)
FixedNumberPostConnector = _remember_rng(_pc.FixedNumberPostConnector)
FixedTotalNumberConnector = _remember_rng(_pc.FixedTotalNumberConnector)


def _is(connector, base):
    """``connector`` is a ``base`` that connects as ``base`` does (not a subclass with
    its own ``connect``)."""
    return isinstance(connector, base) and type(connector).connect is base.connect


def _native_rng(rng):
    """Whether ``rng`` (a connector's) leaves the drawing to galvani."""
    return isinstance(rng, _pr.NativeRNG)


def _native_distribution(rd):
    """Whether galvani may draw from ``rd``: its generator is a ``NativeRNG``, or the
    unseeded ``NumpyRNG`` a ``RandomDistribution`` gets when none is given."""
    return isinstance(rd.rng, _pr.NativeRNG) or (
        type(rd.rng) is _pr.NumpyRNG and rd.rng.seed is None
    )


def _real(x):
    return isinstance(x, Real) and not isinstance(x, bool) and math.isfinite(float(x))


def _flag(x):
    return x is True or x is False


def connection_rule(connector, pre, post):
    """galvani's ``connect`` table for ``connector`` between the populations ``pre`` and
    ``post``, or None where galvani has no such rule (or PyNN's own drawing is asked
    for)."""
    same = pre is post
    if getattr(connector, "location_selector", None) is not None:
        return None
    if _is(connector, _pc.AllToAllConnector):
        if not _flag(connector.allow_self_connections):
            return None
        return {"rule": "all_to_all", "autapses": connector.allow_self_connections}
    if _is(connector, _pc.OneToOneConnector):
        return {"rule": "one_to_one"} if pre.size == post.size else None
    rng = getattr(connector, "rng", None)
    if not (_native_rng(rng) or getattr(connector, "_galvani_default_rng", False)):
        return None
    autapses = getattr(connector, "allow_self_connections", None)
    if not _flag(autapses):
        return None
    if _is(connector, _pc.FixedProbabilityConnector):
        p = connector.p_connect
        if not (_real(p) and 0.0 <= p <= 1.0):
            return None
        return {"rule": "fixed_probability", "p": float(p), "autapses": autapses}
    multapses = getattr(connector, "with_replacement", None)
    n = getattr(connector, "n", None)
    if not _flag(multapses) or not isinstance(n, Integral) or isinstance(n, bool) or n < 0:
        return None
    n = int(n)
    if _is(connector, _pc.FixedNumberPreConnector):
        rule, key, choices = "fixed_indegree", "k", pre.size - (same and not autapses)
    elif _is(connector, _pc.FixedNumberPostConnector):
        rule, key, choices = "fixed_outdegree", "k", post.size - (same and not autapses)
    elif _is(connector, _pc.FixedTotalNumberConnector):
        rule, key = "fixed_total_number", "n"
        choices = pre.size * post.size - (pre.size if same and not autapses else 0)
    else:
        return None
    if n > 0 and (choices <= 0 or (not multapses and n > choices)):
        return None  # impossible: PyNN's drawing says so in its own words
    return {"rule": rule, key: n, "autapses": autapses, "multapses": multapses}


def value_spec(value, scale):
    """galvani's form of a weight or delay (a PyNN ``LazyArray`` of the synapse type's
    native parameters), scaled into galvani's units by ``scale`` > 0: ``(spec, lowest,
    highest, random)``, or None where galvani has no such form."""
    if getattr(value, "operations", None):
        return None
    b = value.base_value
    if _real(b):
        x = float(b) * scale
        return x, x, x, False
    if not isinstance(b, _pr.RandomDistribution) or not _native_distribution(b):
        return None
    p = b.parameters
    bounds = ("low", "high") if b.name == "normal_clipped" else ()
    if not all(_real(v) or (k in bounds and isinstance(v, Real) and not math.isnan(v))
               for k, v in p.items()):
        return None
    p = {k: float(v) for k, v in p.items()}
    inf = math.inf
    if b.name == "uniform" and p["low"] <= p["high"]:
        lo, hi = p["low"] * scale, p["high"] * scale
        return {"uniform": [lo, hi]}, lo, hi, True
    if b.name in ("normal", "normal_clipped") and p["sigma"] >= 0:
        spec = {"normal": [p["mu"] * scale, p["sigma"] * scale]}
        lo, hi = (-inf, inf) if p["sigma"] > 0 else (p["mu"] * scale,) * 2
        if b.name == "normal_clipped":
            if not p["low"] <= p["high"]:
                return None
            lo, hi = max(lo, p["low"] * scale), min(hi, p["high"] * scale)
            if math.isfinite(p["low"]):
                spec["min"] = p["low"] * scale
            if math.isfinite(p["high"]):
                spec["max"] = p["high"] * scale
            if lo > hi:
                return None
        return spec, lo, hi, True
    if b.name == "lognormal" and p["sigma"] >= 0:
        return {"lognormal": [p["mu"] + math.log(scale), p["sigma"]]}, 0.0, inf, True
    return None
