"""The type stubs match the built extension, and a program that uses the
typed API passes ``mypy --strict``."""

from __future__ import annotations

import ast
import inspect
import os
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

import pytest

import spread
from spread import _spread

STUB = Path(spread.__file__).with_name("_spread.pyi")
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def stub_tree() -> ast.Module:
    return ast.parse(STUB.read_text())


def params(fn: ast.FunctionDef) -> List[str]:
    a = fn.args
    names = [p.arg for p in a.posonlyargs + a.args]
    defaults = [None] * (len(names) - len(a.defaults)) + [ast.unparse(d) for d in a.defaults]
    out = [n if d is None else f"{n}={d}" for n, d in zip(names, defaults)]
    if a.vararg is not None:
        out.append("*" + a.vararg.arg)
    elif a.kwonlyargs:
        out.append("*")
    for p, d in zip(a.kwonlyargs, a.kw_defaults):
        out.append(p.arg if d is None else f"{p.arg}={ast.unparse(d)}")
    return [p for p in out if p not in ("self", "cls")]


def runtime_params(obj: object) -> List[str]:
    sig = inspect.signature(obj)  # type: ignore[arg-type]
    out = []
    star = False
    for p in sig.parameters.values():
        if p.name in ("self", "cls", "$self", "$cls"):
            continue
        if p.kind is inspect.Parameter.VAR_POSITIONAL:
            out.append("*" + p.name)
            star = True
            continue
        if p.kind is inspect.Parameter.KEYWORD_ONLY and not star:
            out.append("*")
            star = True
        out.append(p.name if p.default is inspect.Parameter.empty else f"{p.name}={p.default!r}")
    return out


def public(names: List[str]) -> List[str]:
    return sorted(n for n in names if not (n.startswith("__") and n.endswith("__")))


def test_module_names_match() -> None:
    tree = stub_tree()
    in_stub: List[str] = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            in_stub.append(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            in_stub.append(node.target.id)
    runtime = [n for n in dir(_spread) if not n.startswith("__")]
    assert public(in_stub) == public(runtime)
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            assert ast.unparse(node.annotation) == "int"
            assert isinstance(getattr(_spread, node.target.id), int), node.target.id


def test_functions_and_methods_match() -> None:
    tree = stub_tree()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            assert params(node) == runtime_params(getattr(_spread, node.name)), node.name
        if isinstance(node, ast.ClassDef):
            cls = getattr(_spread, node.name)
            members: Dict[str, ast.AST] = {}
            for item in node.body:
                if isinstance(item, ast.FunctionDef):
                    members[item.name] = item
                elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                    members[item.target.id] = item
            own = [n for n in vars(cls) if not n.startswith("__")]
            assert public(list(members)) == public(own), node.name
            for name, item in members.items():
                if not isinstance(item, ast.FunctionDef):
                    continue
                decorators = {ast.unparse(d) for d in item.decorator_list}
                if "property" in decorators:
                    assert not callable(vars(cls)[name]), f"{node.name}.{name} is a property"
                    continue
                if name == "__new__":
                    # The constructor: the class's own signature (which
                    # inspect reads from a built-in class from 3.10 on).
                    if sys.version_info >= (3, 10):
                        assert params(item) == runtime_params(cls), f"{node.name}()"
                    continue
                if name.startswith("__"):
                    assert callable(getattr(cls, name)), f"{node.name}.{name}"
                    continue
                assert params(item) == runtime_params(getattr(cls, name)), f"{node.name}.{name}"


def test_mypy_strict_accepts_the_typed_example() -> None:
    try:
        import mypy  # noqa: F401
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("mypy is not installed in CI")
        pytest.skip("mypy is not installed")
    out = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(EXAMPLES / "chat.py"),
         str(EXAMPLES / "chat_async.py"), str(EXAMPLES / "flush_chat.py")],
        capture_output=True, text=True, timeout=300,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_mypy_finds_a_type_error() -> None:
    """The check above can fail: a wrong call is reported."""
    try:
        import mypy  # noqa: F401
    except ImportError:
        pytest.skip("mypy is not installed")
    bad = "import spread\ns = spread.Session('4803')\ns.send('g', 3)\nm = spread.connect(b'4803')\nm.multicast('x', b'g', b'')\n"
    out = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "-c", bad],
        capture_output=True, text=True, timeout=300,
    )
    assert out.returncode == 1 and out.stdout.count("error:") == 2, out.stdout


def test_mypy_finds_a_flush_type_error() -> None:
    """The Flush stubs are read too: a wrong call is reported."""
    try:
        import mypy  # noqa: F401
    except ImportError:
        pytest.skip("mypy is not installed")
    bad = (
        "import spread\nfl = spread.FlushSession('4803')\nfl.unicast('g', ['a', 'b'], b'x')\n"
        "m = fl.receive()\nprint(m.members)\n"
    )
    out = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "-c", bad],
        capture_output=True, text=True, timeout=300,
    )
    assert out.returncode == 1, out.stdout
    assert 'Argument 2 to "unicast" of "FlushSession"' in out.stdout, out.stdout
    assert 'Item "FlushDataMessage" of' in out.stdout and 'has no attribute "members"' in out.stdout, out.stdout
    assert 'Item "FlushViewMessage" of' not in out.stdout, out.stdout
