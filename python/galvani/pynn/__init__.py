"""galvani as a PyNN 0.13 backend: ``import galvani.pynn as sim``.

Supported: the cell types IF_curr_exp, IF_curr_alpha, IF_cond_exp, IF_cond_alpha,
IF_curr_delta, SpikeSourceArray and SpikeSourcePoisson; the current sources DCSource, StepCurrentSource, ACSource and
NoisyCurrentSource; StaticSynapse;
PyNN's generic connectors (the standard ones on galvani's own connection rules, with
``NativeRNG`` or no rng; see ``galvani.pynn.connectors``); recording of spikes, v and gsyn into Neo blocks; run, run_until,
reset, get_data(clear=...), and parameters of populations, views and projections. Other
PyNN models raise ``NotImplementedError``. See the README's PyNN section.

``setup(timestep=0.1, min_delay="auto", backend="cpu", precision="f64", seed=1234)``;
other keywords are accepted and ignored.
"""

try:
    import pyNN  # noqa: F401
except ImportError as e:  # pragma: no cover
    raise ImportError(
        "galvani.pynn needs PyNN 0.13: pip install 'pyNN==0.13.0' (or galvani[pynn])"
    ) from e

from pyNN import errors, random, space  # noqa: F401
from pyNN.network import Network  # noqa: F401
from pyNN.space import Space  # noqa: F401
from pyNN.random import NumpyRNG, GSLRNG, RandomDistribution  # noqa: F401
from pyNN.connectors import *  # noqa: F401,F403
from .connectors import (  # noqa: F401  (galvani draws these where it can)
    NativeRNG, FixedProbabilityConnector, FixedNumberPreConnector, FixedNumberPostConnector,
    FixedTotalNumberConnector,
)
from pyNN.recording import *  # noqa: F401,F403
from pyNN.standardmodels import StandardCellType

from .standardmodels import *  # noqa: F401,F403
from .standardmodels import (  # noqa: F401
    IF_curr_exp, IF_curr_alpha, IF_cond_exp, IF_cond_alpha, IF_curr_delta, Izhikevich,
    EIF_cond_exp_isfa_ista, EIF_cond_alpha_isfa_ista, HH_cond_exp, SpikeSourceArray,
    SpikeSourcePoisson, DCSource, StepCurrentSource, StaticSynapse,
)
from .populations import Population, PopulationView, Assembly  # noqa: F401
from .projections import Projection  # noqa: F401
from .control import (  # noqa: F401
    setup, end, run, run_until, run_for, reset, initialize, get_current_time,
    get_time_step, get_min_delay, get_max_delay, num_processes, rank,
)
from .procedural_api import create, connect, record, record_v, record_gsyn, set  # noqa: F401
from . import simulator  # noqa: F401


def list_standard_models():
    """The StandardCellType classes galvani.pynn supports."""
    return [
        obj.__name__
        for obj in globals().values()
        if isinstance(obj, type) and issubclass(obj, StandardCellType)
        and hasattr(obj, "galvani_model")
    ]
