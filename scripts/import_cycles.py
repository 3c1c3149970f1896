"""No import cycle among the hub's modules, counting the imports deferred into functions
(issue 15; docs/decisions.md, "Structure"). Imports made for type checking only
(``if TYPE_CHECKING:``) are not counted: they never run.

A cycle is a set of modules each of which reaches the others through imports, found as
the graph's strongly connected components (Tarjan). Prints them and exits 1 if any;
`make check` runs it, and so does the suite (tests/test_import_contracts.py).
"""

import sys
from pathlib import Path

import grimp

PACKAGES = ("bpij", "grantees", "reporting", "coaching")


def import_cycles() -> list[list[str]]:
    graph = grimp.build_graph(
        *PACKAGES, include_external_packages=False, exclude_type_checking_imports=True
    )
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(module: str) -> None:
        # Iterative Tarjan: the module graph is deep enough to trouble recursion.
        work = [(module, iter(sorted(graph.find_modules_directly_imported_by(module))))]
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append(
                        (child, iter(sorted(graph.find_modules_directly_imported_by(child))))
                    )
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in graph.find_modules_directly_imported_by(node):
                    cycles.append(sorted(component))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return sorted(cycles)


def main() -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    cycles = import_cycles()
    for cycle in cycles:
        print("Import cycle: " + " <-> ".join(cycle))
    if cycles:
        print(f"{len(cycles)} import cycle(s), counting imports deferred into functions.")
        return 1
    print("No import cycle among " + ", ".join(PACKAGES) + " (deferred imports counted).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
