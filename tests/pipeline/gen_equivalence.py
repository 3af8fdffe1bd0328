"""Generates the static/runtime equivalence property test.

Each case is a random sequence of registrations (anchors -1, built-in IDs and earlier custom
IDs; single states and nested groups). This script holds an independent model of Momentum's
semantics (dense IDs in registration order, linked-list insertion after the anchor) and emits,
for every case, the IDs and order the model predicts. The C++ side checks that the static
`pipeline<...>`, a runtime `state_machine` fed the same registrations (with invalid ones mixed
in, which must return -1 and consume no ID), and a `state_machine` built from the static
pipeline all match the prediction.

usage: gen_equivalence.py OUTPUT.cpp SEED CASES
"""
import random
import sys

BUILTINS = ["banner", "ehlo", "helo", "starttls", "auth", "mail", "rcpt", "data", "rset", "quit"]
POOL = 48  # state types s0..s47


class Model:
    """Momentum's client state machine: IDs from 10 upwards, insertion after the anchor."""

    def __init__(self):
        self.order = list(range(len(BUILTINS)))
        self.names = list(BUILTINS)

    def register(self, name, anchor, complete=True):
        if not complete or not name or name in self.names:
            return -1
        if anchor != -1 and not 0 <= anchor < len(self.names):
            return -1
        new_id = len(self.names)
        self.names.append(name)
        at = 0 if anchor == -1 else self.order.index(anchor) + 1
        self.order.insert(at, new_id)
        return new_id


def random_group(rng, free, depth):
    """A nested list of state indices (a group) taking states from `free`."""
    items = []
    for _ in range(rng.randint(1, 3)):
        if not free:
            break
        if depth < 2 and rng.random() < 0.25:
            inner = random_group(rng, free, depth + 1)
            if inner:
                items.append(inner)
        else:
            items.append(free.pop())
    return items


def leaves(item):
    if isinstance(item, list):
        out = []
        for x in item:
            out.extend(leaves(x))
        return out
    return [item]


def type_of(item):
    if isinstance(item, list):
        return "smtpipe::group<" + ", ".join(type_of(x) for x in item) + ">"
    return f"s{item}"


def make_case(rng, index):
    free = list(range(POOL))
    rng.shuffle(free)
    model = Model()
    registrations = []  # (anchor, item)
    runtime = []        # C++ statements registering on machine `m`, in order
    ids = {}            # state index -> expected id
    for _ in range(rng.randint(1, 10)):
        if not free:
            break
        known = list(range(len(model.names)))
        anchor = rng.choice([-1] + known)
        item = random_group(rng, free, 0) if rng.random() < 0.3 else free.pop()
        if item == []:
            continue
        registrations.append((anchor, item))
        prev = anchor
        for leaf in leaves(item):
            # invalid registrations interleaved: refused, no ID consumed
            if rng.random() < 0.3:
                kind = rng.choice(["callback", "tostage", "tostring", "empty", "duplicate",
                                   "builtin", "anchor", "negative"])
                if kind == "duplicate" and not ids:
                    kind = "builtin"
                if kind == "duplicate":
                    dup = rng.choice(list(ids))
                    runtime.append(f'CHECK(m.register_state(renamed<s0>("s{dup}"), -1) == -1);')
                elif kind == "builtin":
                    runtime.append(f'CHECK(m.register_state(renamed<s0>("{rng.choice(BUILTINS)}"), 0) == -1);')
                elif kind in ("anchor", "negative"):
                    bad = len(model.names) + rng.randint(0, 5) if kind == "anchor" else -rng.randint(2, 9)
                    runtime.append(f'CHECK(m.register_state(renamed<s0>("x{index}_{len(runtime)}"), {bad}) == -1);')
                elif kind == "empty":
                    runtime.append('CHECK(m.register_state(renamed<s0>(""), -1) == -1);')
                else:
                    runtime.append(f'CHECK(m.register_state(without_{kind}("y{index}_{len(runtime)}"), -1) == -1);')
            got = model.register(f"s{leaf}", prev)
            assert got >= 0
            ids[leaf] = got
            runtime.append(f"CHECK(m.register_state(smtpipe::make_state<s{leaf}>(), {prev}) == {got});")
            prev = got
    pipeline = "smtpipe::pipeline<" + ", ".join(
        f"smtpipe::insert_after<{a}, {type_of(i)}>" for a, i in registrations) + ">"
    order = ", ".join(map(str, model.order))
    lines = [f'TEST_CASE("static and runtime registration agree: case {index} [smtpipe]") {{',
             f"  using P = {pipeline};",
             f"  const std::vector<int> expected_order{{{order}}};",
             "  // the static pipeline",
             f"  CHECK(P::size == {len(model.order)});"]
    for leaf, got in sorted(ids.items(), key=lambda kv: kv[1]):
        lines.append(f"  CHECK(P::id_of<s{leaf}>() == {got});")
    lines += ["  CHECK(to_vector(P::order()) == expected_order);",
              "  // the runtime machine, invalid registrations included",
              "  smtpipe::state_machine m;"]
    lines += ["  " + s for s in runtime]
    lines += ["  CHECK(m.order() == expected_order);",
              "  CHECK(walk(m) == expected_order);",
              "  // a machine started from the static pipeline, then continued at runtime",
              "  smtpipe::state_machine from_static{P{}};",
              "  CHECK(from_static.order() == expected_order);",
              f"  CHECK(from_static.register_state(renamed<s0>(\"after_{index}\"), -1) == {len(model.order)});",
              "}", ""]
    return "\n".join(lines)


def main():
    out, seed, cases = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rng = random.Random(seed)
    parts = [f"// Generated by gen_equivalence.py (seed {seed}, {cases} cases); do not edit.",
             '#include "pipeline/equivalence_support.hpp"', ""]
    for i in range(cases):
        parts.append(make_case(rng, seed * 1000 + i))
    with open(out, "w", encoding="utf-8") as f:
        f.write("\n".join(parts))


if __name__ == "__main__":
    main()
