"""setup, run, reset and the state queries of galvani.pynn."""

from pyNN import common
from pyNN.common.control import DEFAULT_MAX_DELAY, DEFAULT_MIN_DELAY, DEFAULT_TIMESTEP
from pyNN.recording import get_io

from . import simulator


def setup(timestep=DEFAULT_TIMESTEP, min_delay=DEFAULT_MIN_DELAY, **extra_params):
    """Starts a new network. ``timestep`` and ``min_delay`` in ms (``"auto"``: one step).
    galvani's own keywords: ``backend`` (``"cpu"``, the default, or ``"gpu"``),
    ``precision`` (``"f64"``, the default on the CPU, or ``"f32"``) and ``seed`` (also
    read from ``rng_seed``). Other keywords (other simulators' options) are ignored."""
    max_delay = extra_params.get("max_delay", DEFAULT_MAX_DELAY)
    common.setup(timestep, min_delay, **extra_params)
    st = simulator.state
    st.clear()
    st.dt = float(timestep)
    st.min_delay = st.dt if min_delay == "auto" else float(min_delay)
    st.min_delay_auto = min_delay == "auto"
    st.max_delay = 10.0 if max_delay == "auto" else float(max_delay)
    st.backend = extra_params.get("backend", "cpu")
    st.precision = extra_params.get("precision", "f32" if st.backend == "gpu" else "f64")
    seed = extra_params.get("seed", extra_params.get("rng_seed", 1234))
    st.seed = int(seed) if seed is not None else 1234
    st.record_sample_times = False
    return rank()


def end(compatible_output=True):
    """Writes the data requested with ``write_on_end`` and forgets the network."""
    st = simulator.state
    for population, variables, filename in st.write_on_end:
        io = get_io(filename)
        population.write_data(io, variables)
    st.write_on_end = []


run, run_until = common.build_run(simulator)
run_for = run
reset = common.build_reset(simulator)
initialize = common.initialize

get_current_time, get_time_step, get_min_delay, get_max_delay, num_processes, rank = (
    common.build_state_queries(simulator)
)
