"""LightGBM trees compiled to native code (lleaves), cached on disk, checked against LightGBM.

Contract: :func:`compile_forest` turns a ``lightgbm.Booster`` into a :class:`CompiledForest` whose
``margin(x)`` equals ``Booster.predict(x, raw_score=True)`` (same trees, same missing-value and
categorical rules; the sums agree to ~1e-13), or returns None after logging a warning, and the
caller keeps LightGBM's own predict. The machine code is cached under ``cache_dir`` keyed by a hash
of the model text and of everything the code depends on (lleaves and LLVM versions, host CPU), so a
model is compiled once per machine: the registry does it when a model is registered or promoted.
Cache writes go to a temporary file renamed into place, so processes compiling the same model at
once never read half a file; a damaged file fails its checksum and is rebuilt.

Why compile: LightGBM's batch predict was 69% of ``pesaguard score``'s time with lgbm_31 (300 trees
x 31 leaves); the compiled forest predicts ~8x faster per core on the simulated month's feature
matrix (``benchmarks/bench_models.py`` prints both). A flat-array tree walk in numba (tried, same
matrix) was no faster than LightGBM: the cost is in data-dependent branches, which compiled code
turns into straight-line compares with the thresholds as constants.

Why lleaves rather than treelite + tl2cgen: lleaves generates LLVM IR and compiles it in-process
through llvmlite, which numba already brings; tl2cgen emits C and needs a C compiler on every
machine that scores. Why the LLVM steps are here rather than ``lleaves.Model.compile``: lleaves
1.3.0, the latest release, calls ``llvm.initialize()`` and the legacy pass manager, both removed in
llvmlite 0.45 (numba >= 0.62 needs llvmlite >= 0.45). Upstream made the same change as
:func:`_optimise` (siboehm/lleaves#97) but has not released it; we use lleaves' model parser and
code generator (``lleaves.compiler``) and do the optimisation, machine-code generation and object
caching with llvmlite's current API. When a fixed lleaves is released, ``Model.compile`` can
replace :func:`_build`.

Build options (measured on lgbm_31 and lgbm_63_slow, 2-core machine): LLVM's O2 IR pipeline with
inlining, then machine code at codegen level 0. Codegen level 2 predicted 14-16% faster but took
9 s instead of 0.3 s for lgbm_31 and 60 s instead of 2 s for lgbm_63_slow (400 trees x 63 leaves);
without the IR pipeline the code was 2x slower.
"""

from __future__ import annotations

import ctypes
import hashlib
import logging
import math
import os
import tempfile
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

_ROOT = "forest_root"
#: lleaves' default: trees are evaluated in blocks of this many for all rows (instruction cache).
_BLOCK_SIZE = 34
_IR_SPEED_LEVEL = 2
_CODEGEN_OPT = 0
#: Part of the cache key: change it when the generated code would change for the same model.
_BUILD = f"raw-fp64-block{_BLOCK_SIZE}-O{_IR_SPEED_LEVEL}-inline-cg{_CODEGEN_OPT}"
_MAGIC = b"pesaguard-forest-v1"
_ZERO = float(np.float32(1e-35))  # LightGBM's kZeroThreshold (a float: 1.0000000180025095e-35)
#: Rows below which a batch is not split across threads (a thread start costs ~50-100 µs).
_MIN_ROWS_PER_THREAD = 4096
#: forest_root(data, out, start, end): adds each row's raw margin into out[row] for rows [start, end).
_ENTRY = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int32, ctypes.c_int32)
_ENTRY_HOLDING_GIL = ctypes.PYFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int32, ctypes.c_int32)
# LLVM's global state is not meant for concurrent compilation; one build or load at a time.
_LLVM_LOCK = threading.Lock()
#: Forests this process has compiled or loaded and checked, by cache key, newest last: a model that
#: is registered then promoted, or scored by several Scorers, is compiled or read once per process.
_RECENT: OrderedDict[str, CompiledForest] = OrderedDict()
_RECENT_MAX = 8


class CompiledForest:
    """A booster's raw margin as native code. Thread-safe: calls share no mutable state and release
    the GIL while they run."""

    def __init__(self, engine: Any, object_code: bytes, n_features: int, key: str) -> None:
        self._engine = engine  # owns the machine code: keep it alive as long as the entry point
        self._fn = _ENTRY(engine.get_function_address(_ROOT))
        # one row runs in ~8 µs: releasing and taking back the GIL around it is pure overhead
        self._fn_held = _ENTRY_HOLDING_GIL(engine.get_function_address(_ROOT))
        self.object_code = object_code
        self.n_features = n_features
        self.key = key

    def margin(self, x: np.ndarray, threads: int = 1) -> np.ndarray:
        """Raw margins of the rows of ``x`` (float64, ``n_features`` columns, NaN for missing)."""
        x = np.ascontiguousarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.n_features:
            raise ValueError(f"expected a matrix with {self.n_features} feature columns, got shape {x.shape}")
        n = x.shape[0]
        if n >= 2**31 - 1:
            raise ValueError(f"{n:,} rows in one call; split the batch below 2**31 rows")
        out = np.zeros(n, dtype=np.float64)
        threads = max(1, min(threads, n // _MIN_ROWS_PER_THREAD))
        if threads == 1:
            self._fn(x.ctypes.data, out.ctypes.data, 0, n)
            return out
        step = math.ceil(n / threads)
        with ThreadPoolExecutor(max_workers=threads) as pool:
            done = [pool.submit(self._fn, x.ctypes.data, out.ctypes.data, s, min(s + step, n))
                    for s in range(0, n, step)]
            for f in done:
                f.result()
        return out

    def margin_row(self, row: np.ndarray) -> float:
        """The raw margin of one contiguous float64 row of ``n_features`` values."""
        if row.dtype != np.float64 or row.shape != (self.n_features,) or not row.flags.c_contiguous:
            row = np.ascontiguousarray(row, dtype=np.float64).reshape(self.n_features)
        out = np.zeros(1, dtype=np.float64)
        self._fn_held(row.ctypes.data, out.ctypes.data, 0, 1)
        return float(out[0])

    def margin_at(self, row_address: int, out_address: int) -> None:
        """Add the raw margin of the ``n_features`` float64 values at ``row_address`` into the float64
        at ``out_address``. No checks: for a caller that owns both buffers and keeps their addresses
        (``ndarray.ctypes.data`` alone costs ~1 µs a call)."""
        self._fn_held(row_address, out_address, 0, 1)


def compile_forest(booster: Any, cache_dir: Path | None) -> CompiledForest | None:
    """``booster`` (a ``lightgbm.Booster``) as a :class:`CompiledForest`, from the cache under
    ``cache_dir`` or compiled now (and cached); None, with a warning, if that is not possible or
    the compiled forest disagrees with LightGBM on probe rows. ``cache_dir=None``: no cache."""
    if booster.num_model_per_iteration() != 1:  # the entry point would write one margin per class
        log.warning("compiled tree prediction covers one output per row, this model has %d; using "
                    "LightGBM's predict", booster.num_model_per_iteration())
        return None
    model_text = booster.model_to_string()
    try:
        with _LLVM_LOCK:
            forest, checked = _load_or_build(model_text, int(booster.num_feature()), cache_dir)
    except Exception as exc:  # any failure here must leave scoring working on LightGBM's predict
        log.warning("compiled tree prediction unavailable (%s: %s); using LightGBM's predict",
                    type(exc).__name__, exc)
        return None
    if not checked:
        mismatch = _disagreement(forest, booster, model_text)
        if mismatch is not None:
            log.warning("compiled model %s disagrees with LightGBM on probe rows (max |diff| %.3g); "
                        "using LightGBM's predict", forest.key[:12], mismatch)
            return None
        with _LLVM_LOCK:
            _RECENT[forest.key] = forest
            while len(_RECENT) > _RECENT_MAX:
                _RECENT.popitem(last=False)
    return forest


def forest_cache_dir(settings: Any = None) -> Path:
    """Where compiled forests are cached: ``HOME/cache/forests``."""
    if settings is None:
        from pesaguard.config import get_settings

        settings = get_settings()
    return Path(settings.home) / "cache" / "forests"


# -- building and caching -------------------------------------------------------------------------------
def _llvm() -> Any:
    import llvmlite.binding as llvm

    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    return llvm


def _host(llvm: Any) -> tuple[str, str, str]:
    try:
        features = llvm.get_host_cpu_features().flatten()
    except RuntimeError:  # LLVM cannot detect them on some hosts
        features = ""
    return llvm.get_process_triple(), llvm.get_host_cpu_name(), features


def _target_machine(llvm: Any, host: tuple[str, str, str]) -> Any:
    triple, cpu, features = host
    # "large" code model: big forests overflow the small model's 32-bit offsets (lleaves' default)
    return llvm.Target.from_triple(triple).create_target_machine(
        cpu=cpu, features=features, reloc="pic", codemodel="large", opt=_CODEGEN_OPT)


def cache_key(model_text: str, host: tuple[str, str, str] | None = None) -> str:
    """Hash of the model text and of what the machine code depends on."""
    from importlib.metadata import version

    import llvmlite

    llvm = _llvm()
    parts = [hashlib.sha256(model_text.encode()).hexdigest(), _BUILD, version("lleaves"),
             llvmlite.__version__, ".".join(map(str, llvm.llvm_version_info)), *(host or _host(llvm))]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _load_or_build(model_text: str, n_features: int, cache_dir: Path | None) -> tuple[CompiledForest, bool]:
    """The forest for ``model_text`` and whether it was already checked against LightGBM: from this
    process's recent forests, else from the cache file, else compiled (and written to the cache)."""
    llvm = _llvm()
    host = _host(llvm)
    key = cache_key(model_text, host)
    path = cache_dir / f"{key[:32]}.forest" if cache_dir is not None else None
    recent = _RECENT.get(key)
    if recent is not None:
        _RECENT.move_to_end(key)
        if path is not None and not (path.exists() and _read(path) is not None):
            _cache(path, recent.object_code)
        return recent, True
    if path is not None and path.exists():
        obj = _read(path)
        if obj is not None:
            return CompiledForest(_engine_from_object(llvm, host, obj), obj, n_features, key), False
        log.warning("cached compiled model %s is damaged; compiling it again", path)
    t0 = time.perf_counter()
    engine, obj = _build(llvm, host, model_text)
    log.info("compiled the model's trees to native code in %.1f s%s", time.perf_counter() - t0,
             f" (cached as {path})" if path is not None else "")
    if path is not None:
        _cache(path, obj)
    return CompiledForest(engine, obj, n_features, key), False


def _cache(path: Path, obj: bytes) -> None:
    """Write the object code to the cache; if that fails the compiled forest is still used."""
    try:
        _write(path, obj)
    except OSError as exc:
        log.warning("cannot cache the compiled model at %s (%s); it will be compiled again next time",
                    path, exc)


def _build(llvm: Any, host: tuple[str, str, str], model_text: str) -> tuple[Any, bytes]:
    """Generate (lleaves), optimise and compile the forest; returns the engine and its object code."""
    import llvmlite.ir
    from lleaves.compiler.ast import parse_to_ast
    from lleaves.compiler.codegen import gen_forest

    with tempfile.TemporaryDirectory(prefix="pesaguard-forest-") as tmp:
        model_file = Path(tmp) / "model.txt"  # lleaves' parser reads a file
        model_file.write_text(model_text, encoding="utf-8")
        forest = parse_to_ast(str(model_file))
    forest.raw_score = True  # margins: the bundle's Platt calibrator maps them to probabilities
    ir = llvmlite.ir.Module(name="forest")
    gen_forest(forest, ir, _BLOCK_SIZE, _ROOT, True)
    ir.triple = host[0]
    module = llvm.parse_assembly(str(ir))
    module.verify()
    tm = _target_machine(llvm, host)
    _optimise(llvm, tm, module)
    engine = llvm.create_mcjit_compiler(module, tm)
    module.data_layout = str(engine.target_data)
    objects: list[bytes] = []
    engine.set_object_cache(notify_func=lambda _module, buf: objects.append(bytes(buf)))
    engine.finalize_object()
    engine.run_static_constructors()
    if len(objects) != 1:
        raise RuntimeError(f"LLVM produced {len(objects)} object files for one module")
    return engine, objects[0]


def _optimise(llvm: Any, tm: Any, module: Any) -> None:
    """LLVM's O2 pipeline with inlining (lleaves' ``finline=True``), through the new pass manager."""
    pto = llvm.create_pipeline_tuning_options(speed_level=_IR_SPEED_LEVEL)
    pto.inlining_threshold = 1  # any threshold turns inlining of the per-tree functions on
    pb = llvm.create_pass_builder(tm, pto)
    pb.getModulePassManager().run(module, pb)


def _engine_from_object(llvm: Any, host: tuple[str, str, str], obj: bytes) -> Any:
    """An execution engine for cached object code (the empty module is served from the cache)."""
    engine = llvm.create_mcjit_compiler(llvm.parse_assembly(""), _target_machine(llvm, host))
    engine.set_object_cache(getbuffer_func=lambda _module: obj)
    engine.finalize_object()
    engine.run_static_constructors()
    return engine


def _write(path: Path, obj: bytes) -> None:
    """Atomically: a temporary file in the same directory, then a rename over the final name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(_MAGIC + b" " + hashlib.sha256(obj).hexdigest().encode() + b"\n" + obj)
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide it from a service running as another user
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read(path: Path) -> bytes | None:
    """The object code in ``path``, or None if the file is not a complete one of ours."""
    data = path.read_bytes()
    header, _, obj = data.partition(b"\n")
    magic, _, digest = header.partition(b" ")
    if magic != _MAGIC or hashlib.sha256(obj).hexdigest().encode() != digest:
        return None
    return obj


# -- parity check ---------------------------------------------------------------------------------------
def probe_rows(model_text: str, n_features: int, rows: int = 256, seed: int = 0) -> np.ndarray:
    """Rows that exercise the model's splits: each value is one of the feature's split thresholds,
    the next double above one (the ``<=`` boundary), NaN, zero, or +-1.

    Values with ``0 < |x| <= 1e-35`` are left out: LightGBM's predictor reads them as zero (its
    ``kZeroThreshold``) and the compiled code compares them as they are. LightGBM places
    thresholds at +-1e-35 around zero, so the two disagree there and only there; pesaguard's
    features (counts, amounts, ratios, seconds) never take such values."""
    pools: list[list[float]] = [[math.nan, 0.0, 1.0, -1.0] for _ in range(n_features)]
    features: list[int] = []
    for line in model_text.splitlines():
        if line.startswith("split_feature="):
            features = [int(v) for v in line[len("split_feature="):].split()]
        elif line.startswith("threshold=") and features:
            for f, t in zip(features, line[len("threshold="):].split(), strict=False):
                v = float(t)
                pools[f] += [c for c in (v, float(np.nextafter(v, math.inf))) if not 0 < abs(c) <= _ZERO]
            features = []
    rng = np.random.default_rng(seed)
    x = np.empty((rows, n_features), dtype=np.float64)
    for j, pool in enumerate(pools):
        x[:, j] = rng.choice(np.asarray(pool), rows)
    return x


def _disagreement(forest: CompiledForest, booster: Any, model_text: str) -> float | None:
    """Max |compiled - LightGBM| margin on probe rows if above tolerance, else None."""
    x = probe_rows(model_text, forest.n_features)
    want = np.asarray(booster.predict(x, raw_score=True, num_threads=1), dtype=np.float64)
    got = forest.margin(x)
    if np.allclose(got, want, rtol=1e-9, atol=1e-9):
        return None
    return float(np.max(np.abs(got - want)))
