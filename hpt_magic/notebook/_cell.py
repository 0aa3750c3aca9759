"""Turn a ``%%tune`` cell body into an objective.

The cell's AST is rewritten so that ``x = tune.uniform(...)`` passes ``name="x"`` and the last
expression becomes the score; each trial then runs the code in its own namespace layered over
the notebook's.
"""

from __future__ import annotations

import ast
import hashlib
import linecache
import pickle
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import CodeType
from typing import Any

from ..exceptions import SpaceError, TuneError
from ..executors._tune import tune
from ..trial import Trial

__all__ = ["CellProgram", "CellObjective", "parse_cell", "cell_hash"]

TUNE_CALLS = frozenset({"uniform", "loguniform", "float", "int", "choice", "grid"})
SCORE = "__hpt_score__"


@dataclass
class CellProgram:
    """A parsed cell: its compiled code and what it defines and reads."""

    source: str
    filename: str
    code: CodeType
    param_names: list[str]
    has_score: bool
    reports: bool
    assigned: set[str] = field(default_factory=set)
    loads: set[str] = field(default_factory=set)
    conditional: bool = False
    #: Names the cell assigns and may read before it does (``X = X[:500]``, ``n += 1``):
    #: they may be the notebook's.
    rebinds: set[str] = field(default_factory=set)


def cell_hash(source: str) -> str:
    """A stable short hash of a cell body (whitespace at the ends ignored)."""
    return hashlib.sha1(source.strip().encode()).hexdigest()[:10]


def _tune_call(node: ast.AST) -> str | None:
    """``"uniform"`` for ``tune.uniform(...)``, else ``None``."""
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name) and node.func.value.id == "tune"):
        return node.func.attr
    return None


def _call_text(source: str, call: ast.Call, kind: str) -> str:
    """The source of a ``tune.*`` call, for messages (``tune.kind(...)`` when it is long)."""
    text = ast.get_source_segment(source, call) or ""
    return text if text and "\n" not in text and len(text) <= 60 else f"tune.{kind}(...)"


def _has_name(call: ast.Call) -> bool:
    return any(k.arg == "name" for k in call.keywords)


class _NameFromTarget(ast.NodeTransformer):
    def visit_Assign(self, node: ast.Assign) -> ast.AST:
        self.generic_visit(node)
        if (len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                and _tune_call(node.value) in TUNE_CALLS and not _has_name(node.value)):
            node.value.keywords.append(ast.keyword("name", ast.Constant(node.targets[0].id)))
        return node

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.AST:
        self.generic_visit(node)
        if (isinstance(node.target, ast.Name) and node.value is not None
                and _tune_call(node.value) in TUNE_CALLS and not _has_name(node.value)):
            node.value.keywords.append(ast.keyword("name", ast.Constant(node.target.id)))
        return node


def _read_before_bound(body: list[ast.stmt], bound: set[str]) -> set[str]:
    """The names ``body`` may read before it has surely bound them (``X = X[:500]``,
    ``n += 1``, a read after an ``if`` that may have bound it): the notebook's value is read
    then. Statements in order; what a branch, a loop or a ``try`` binds is sure only inside
    it; names bound in a function, lambda or comprehension are theirs."""
    first: set[str] = set()
    bound = set(bound)
    for stmt in body:
        if isinstance(stmt, (ast.If, ast.While)):
            first |= _reads(stmt.test) - bound
            bound |= _bound_by(stmt.test)  # (a walrus: `if (m := ...)`)
            first |= _read_before_bound(stmt.body, bound)
            first |= _read_before_bound(stmt.orelse, bound)
            if isinstance(stmt, ast.If):  # what both branches bind is bound after
                bound |= _surely_bound(stmt.body) & _surely_bound(stmt.orelse)
        elif isinstance(stmt, (ast.For, ast.AsyncFor)):
            first |= _reads(stmt.iter) - bound
            first |= _read_before_bound(stmt.body, bound | _bound_by(stmt.target))
            first |= _read_before_bound(stmt.orelse, bound)
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            for item in stmt.items:
                first |= _reads(item.context_expr) - bound
                if item.optional_vars is not None:
                    bound |= _bound_by(item.optional_vars)
            first |= _read_before_bound(stmt.body, bound)
            bound |= _surely_bound(stmt.body)
        elif isinstance(stmt, (ast.Try, ast.TryStar)):
            first |= _read_before_bound(stmt.body, bound)
            for handler in stmt.handlers:
                caught = {handler.name} if handler.name else set()
                first |= (_reads(handler.type) if handler.type else set()) - bound
                first |= _read_before_bound(handler.body, bound | caught)
            first |= _read_before_bound(stmt.orelse, bound)
            first |= _read_before_bound(stmt.finalbody, bound)
            bound |= _surely_bound(stmt.finalbody)
        elif isinstance(stmt, ast.Match):
            first |= _reads(stmt.subject) - bound
            for case in stmt.cases:
                inner = bound | _bound_by(case.pattern)
                first |= (_reads(case.pattern) | (_reads(case.guard) if case.guard else set())
                          ) - inner
                first |= _read_before_bound(case.body, inner)
        elif isinstance(stmt, ast.ClassDef):  # its body's names are the class's
            first |= {n for e in [*stmt.decorator_list, *stmt.bases] for n in _reads(e)} - bound
            bound.add(stmt.name)
        else:  # one statement: what it reads comes before what it binds
            first |= _reads(stmt) - bound
            bound |= _bound_by(stmt)
    return first


def _surely_bound(body: list[ast.stmt]) -> set[str]:
    """The names ``body`` binds whichever way it runs (its plain statements, both branches of
    an ``if``, a ``with`` body), as far as a quick look tells."""
    bound: set[str] = set()
    for stmt in body:
        if isinstance(stmt, ast.If):
            bound |= _surely_bound(stmt.body) & _surely_bound(stmt.orelse)
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            bound |= _surely_bound(stmt.body) | {
                n for item in stmt.items if item.optional_vars is not None
                for n in _bound_by(item.optional_vars)}
        elif not isinstance(stmt, (ast.For, ast.AsyncFor, ast.While, ast.Try, ast.TryStar,
                                   ast.Match)):
            bound |= _bound_by(stmt)
    return bound


def _reads(node: ast.AST) -> set[str]:
    """Names ``node`` reads in the cell's own scope (an ``n += 1`` reads ``n``); inside a
    function, lambda or comprehension, those it does not bind itself."""
    if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
        return {node.target.id} | _reads(node.value)
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        args = node.args
        local = {a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs,
                                 *filter(None, [args.vararg, args.kwarg])]}
        body = node.body if isinstance(node.body, list) else [node.body]
        local |= {n for stmt in body for n in _bound_by(stmt)}
        local -= {n for stmt in body for sub in ast.walk(stmt)  # (a `global counter`)
                  if isinstance(sub, (ast.Global, ast.Nonlocal)) for n in sub.names}
        outer = [*args.defaults, *filter(None, args.kw_defaults)]
        if not isinstance(node, ast.Lambda):
            outer += node.decorator_list
        inner = {n for stmt in body for n in _reads(stmt)} - local
        return inner | {n for e in outer for n in _reads(e)}
    if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
        local = {n for gen in node.generators for n in _bound_by(gen.target)}
        parts = [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
        parts += [e for gen in node.generators for e in gen.ifs]
        inner = {n for part in parts for n in _reads(part)}
        inner |= {n for gen in node.generators[1:] for n in _reads(gen.iter)}
        return (inner - local) | _reads(node.generators[0].iter)
    if isinstance(node, ast.Name):
        return {node.id} if isinstance(node.ctx, ast.Load) else set()
    return {n for child in ast.iter_child_nodes(node) for n in _reads(child)}


def _bound_by(node: ast.AST) -> set[str]:
    """Names a statement or target binds in the scope it runs in."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in node.names}
    if isinstance(node, (ast.Lambda, ast.ListComp, ast.SetComp, ast.GeneratorExp,
                         ast.DictComp)):
        return set()  # (their own scope; a walrus inside is rare enough to miss)
    if isinstance(node, ast.Name):
        return {node.id} if isinstance(node.ctx, ast.Store) else set()
    if isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
        return {node.name} | {n for c in ast.iter_child_nodes(node) for n in _bound_by(c)}
    return {n for child in ast.iter_child_nodes(node) for n in _bound_by(child)}


def parse_cell(source: str, *, out_name: str | None = None) -> CellProgram:
    """Parse and check a ``%%tune`` cell body; raise :class:`TuneError` on what cannot work.

    Examples
    --------
    >>> p = parse_cell("lr = tune.loguniform(1e-4, 1e-1)\\nlr * 2")
    >>> p.param_names, p.has_score
    (['lr'], True)
    >>> parse_cell("x = tune.uniform(0, 1)\\ntune.report(x)").has_score
    False
    """
    if not source.strip():
        raise TuneError("The %%tune cell is empty. Write the objective in the cell: parameters "
                        "as `x = tune.uniform(0, 1)` and the score as the last line.")
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise TuneError(f"The cell has a syntax error on line {exc.lineno}: {exc.msg}. Fix it "
                        "and run the cell again.") from None
    tree = _NameFromTarget().visit(tree)
    names: list[str] = []
    reports = False
    assigned: set[str] = set()
    loads: set[str] = set()
    for node in ast.walk(tree):
        kind = _tune_call(node)
        if kind in TUNE_CALLS:
            name = next((k.value for k in node.keywords if k.arg == "name"), None)
            if name is None:
                call = _call_text(source, node, kind)
                raise SpaceError(
                    f"Line {node.lineno}: {call} is not assigned to a plain name, so its "
                    f"parameter has no name. Assign it (`x = {call}`) or pass name='x' to "
                    f"tune.{kind}.")
            if isinstance(name, ast.Constant) and name.value not in names:
                names.append(name.value)
        elif kind in ("report", "steps") or (kind or "").endswith("_callback"):
            reports = True  # the framework callbacks report every epoch or round
        if isinstance(node, ast.Name):
            if isinstance(node.ctx, ast.Store):
                assigned.add(node.id)
            else:
                loads.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            assigned.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            assigned.update((a.asname or a.name).split(".")[0] for a in node.names)
    for reserved in ("tune", out_name):
        if reserved and reserved in assigned:
            what = "the define-by-run API" if reserved == "tune" else "the study (--out)"
            raise TuneError(
                f"The cell assigns the name {reserved!r}, which %%tune uses for {what}. Rename "
                f"your variable" + (" or pass --out OTHER." if reserved != "tune" else "."))
    top_level = {k.value.value for stmt in tree.body for node in ast.walk(stmt)
                 if isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.Expr))
                 and _tune_call(node) in TUNE_CALLS
                 for k in node.keywords if k.arg == "name" and isinstance(k.value, ast.Constant)}
    body = tree.body
    # A closing `tune.report(x)` records a point of the curve; its result (whether to stop)
    # is no score: the last reported value is.
    has_score = (bool(body) and isinstance(body[-1], ast.Expr)
                 and _tune_call(body[-1].value) != "report")
    if has_score:
        last = body[-1]
        body[-1] = ast.copy_location(
            ast.Assign(targets=[ast.Name(SCORE, ast.Store())], value=last.value), last)
    elif not reports:
        raise TuneError(
            "The cell's last statement is not an expression and the cell never calls "
            "tune.report, so trials would have no score. End the cell with the score (e.g. "
            "`cross_val_score(model, X, y).mean()`) or call tune.report(score).")
    ast.fix_missing_locations(tree)
    filename = f"<tune-cell-{cell_hash(source)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    code = compile(tree, filename, "exec")
    return CellProgram(source, filename, code, names, has_score, reports, assigned,
                       loads - assigned, conditional=bool(set(names) - top_level),
                       rebinds=_read_before_bound(tree.body, set()) & assigned)


def _unsendable(name: str, value: Any, exc: Exception) -> TuneError:
    """The error for the notebook variable ``name`` that pickling refused with ``exc``."""
    if not isinstance(exc, (pickle.PicklingError, TypeError, AttributeError)):
        return TuneError(
            f"The cell uses the notebook variable {name!r} ({type(value).__name__}), which "
            f"failed to pickle: {exc!r}. Create it inside the cell, or run without "
            "--jobs/--dask.")
    from ..executors._worker import unpicklable_part

    # A function's global or an object's attribute, which the cell does not show.
    path, part, exc = (unpicklable_part(value, name, exc)
                       if callable(value) or hasattr(value, "__dict__") else (name, value, exc))
    inner = f": its {path} ({type(part).__name__}) cannot be pickled" if part is not value else ""
    return TuneError(
        f"The cell uses the notebook variable {name!r} ({type(value).__name__}), which cannot "
        f"be sent to worker processes{inner} ({exc}). Create it inside the cell, or run "
        "without --jobs/--dask.")


class CellObjective:
    """The objective of a cell: runs its code in a fresh namespace over the notebook's.

    Parameters
    ----------
    program : CellProgram
    namespace : mapping
        The notebook's variables (read, never written).
    keep : bool
        Keep the namespace of the best trial so far (``best_namespace``) for the notebook.
    """

    def __init__(self, program: CellProgram, namespace: Mapping[str, Any], *,
                 keep: bool = True) -> None:
        self.program = program
        self.namespace = namespace
        self.keep = keep
        self.namespaces: dict[int, dict[str, Any]] = {}

    def __call__(self, trial: Trial) -> Any:
        ns = dict(self.namespace)
        ns["tune"] = tune
        ns.pop(SCORE, None)
        if self.keep:
            self.namespaces[trial.number] = ns
        exec(self.program.code, ns)
        return ns.get(SCORE)

    def take(self, number: int) -> dict[str, Any] | None:
        """The variables trial ``number`` assigned, as it left them."""
        ns = self.namespaces.get(number)
        if ns is None:
            return None
        return {k: ns[k] for k in self.program.assigned if k in ns}

    def forget(self, keep: int | None) -> None:
        """Drop the kept namespaces except that of trial ``keep``."""
        for k in [k for k in self.namespaces if k != keep]:
            del self.namespaces[k]

    def shippable(self) -> CellObjective:
        """A copy carrying only the notebook values the cell reads, checked for pickling.

        Raises
        ------
        TuneError
            Naming the variable that cannot be sent to worker processes.
        """
        import cloudpickle

        values = {}
        for name in sorted(self.program.loads | self.program.rebinds):
            if name not in self.namespace or name == "tune":
                continue
            value = self.namespace[name]
            try:
                cloudpickle.dumps(value)
            except Exception as exc:
                if name not in self.program.loads:
                    # A name the cell binds and may read first (a guess, _read_before_bound):
                    # left out rather than refusing a cell that may never read it.
                    continue
                raise _unsendable(name, value, exc) from None
            values[name] = value
        return CellObjective(self.program, values, keep=False)

    def __getstate__(self) -> dict[str, Any]:
        p = self.program
        return {"source": p.source, "namespace": dict(self.namespace), "keep": False}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.program = parse_cell(state["source"])
        self.namespace = state["namespace"]
        self.keep = False
        self.namespaces = {}
