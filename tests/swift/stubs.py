#!/usr/bin/env python3
"""Generates compile-only stand-ins for the Apple frameworks the iOS shell's platform code uses, from
the published declarations in ios/api/apple.txt (Apple's documentation pages and SDK header lines),
so that code compiles on Linux against what Apple publishes and not against convenient guesses.

    python3 tests/swift/stubs.py           writes ios/Stubs/<Module>/<Module>.swift
    python3 tests/swift/stubs.py --check   fails when a stub file differs from what the lines give

Rules (the ones Swift's importer applies to these declarations):
- a documentation page's identifier names its parent: /documentation/<Module>/<Parent>/<member>
  (the "-swift.struct" kind suffix is dropped); CoreFoundation's declarations go into the Security
  stand-in and CoreMedia's into AVFoundation's, as those frameworks re-export them;
- `class X` (with the page's `@MainActor`, if any) takes its superclass from the header's
  `@interface X : Super` or the page's "Inherits From" (a `super` line); a class behind a
  CoreFoundation typedef (`c:@T@…Ref`) has none;
- a `struct` behind an options enum (`c:@E@…`) is an OptionSet, one behind a typedef (`c:@T@…`) with
  an `init(rawValue:)` page a RawRepresentable, Hashable key; the raw type is the init's parameter;
- `enum X` takes its raw type from the header's `typedef NS_ENUM(NSInteger, <C name>)` (the C name
  is the page's preciseIdentifier `c:@E@<C name>`), and each `case` its value from the enumerator
  the preciseIdentifier names (`c:@E@<enum>@<enumerator>`), following `#define`s to a number; an
  enum no header line gives has its cases without values (nothing on Linux reads them);
- `var x: OSStatus { get }` for a `c:@Ea@…@<name>` enumerator gets that enumerator's value;
- `let X: String` named in a `same` line gets the string its other name is defined as;
- `init?(rawValue:)` of an enum with a raw type is the one Swift synthesises (checked, not written);
- `class let` (not Swift source) and `static let` become static properties; a function imported
  from C or Objective-C (`c:` symbol id) may have its result discarded, as the importer allows;
- a protocol keeps its required members only: optional requirements need Objective-C;
- everything else is a declaration whose body stops the program: these stand-ins exist to be
  compiled against, and nothing on Linux may call them.
"""
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
API = ROOT / "ios/api/apple.txt"
OUT = ROOT / "ios/Stubs"
NS_INTEGER = {"NSInteger": "Int", "NSUInteger": "UInt"}


class Node:
    def __init__(self, name):
        self.name, self.decl, self.precise, self.members = name, None, None, {}


def parse(text):
    docs, c_lines, same, linux, supers = [], [], {}, [], {}
    for n, raw in enumerate(text.splitlines(), 1):
        if not raw.strip() or raw.startswith("#"):
            continue
        tag, _, rest = raw.partition(" ")
        if tag == "doc":
            module, ident, precise, decl = (p.strip() for p in rest.split(" | ", 3))
            docs.append((module, ident, precise, decl))
        elif tag == "c":
            header, line = rest.split(" | ", 1)
            c_lines.append((header.strip(), line))
        elif tag == "same":
            names, _ = rest.split(" | ", 1)
            a, b = (x.strip() for x in names.split("="))
            same[a] = b
        elif tag == "super":
            names, _ = rest.split(" | ", 1)
            sub, sup = (x.strip() for x in names.split(":"))
            supers[sub] = sup
        elif tag == "linux":
            module, decl, _why = (p.strip() for p in rest.split(" | ", 2))
            linux.append((module, decl))
        else:
            sys.exit(f"ios/api/apple.txt:{n}: unknown tag {tag!r}")
    return docs, c_lines, same, linux, supers


def header_facts(c_lines):
    """Numbers and strings the header lines define, enumerator to value, classes to superclasses."""
    defines, enumerators, supers, raw_types = {}, {}, {}, {}
    for _header, line in c_lines:
        s = line.strip()
        if m := re.match(r'#define\s+(\w+)\s+(.+)$', s):
            defines[m[1]] = m[2].strip()
        elif m := re.match(r'@interface\s+(\w+)\s*:\s*(\w+)', s):
            supers[m[1]] = m[2]
        elif m := re.match(r'typedef NS_ENUM\((\w+),\s*(\w+)\)', s):
            raw_types[m[2]] = NS_INTEGER[m[1]]
        elif m := re.match(r'(\w+)\b[^=]*=\s*([-\w]+)\s*,', s):
            enumerators[m[1]] = m[2]

    def value(token, seen=()):
        if re.fullmatch(r'-?\d+', token) or re.fullmatch(r'"[^"]*"', token):
            return token
        if token in seen or token not in defines and token not in enumerators:
            sys.exit(f"stubs.py: no header line gives the value of {token}")
        return value(defines.get(token) or enumerators[token], seen + (token,))

    return value, supers, raw_types


# A framework whose declarations another re-exports on Apple platforms is generated into it, and a
# stand-in re-exports the stand-ins its declarations name, as the SDK's modules do.
HOSTED = {"CoreFoundation": "Security", "CoreMedia": "AVFoundation"}
REEXPORTS = {"AVFoundation": ["Foundation", "CoreVideo"], "LocalAuthentication": ["Foundation"], "UIKit": ["Foundation"]}


def tree(docs):
    modules = {}
    for module, ident, precise, decl in docs:
        module = HOSTED.get(module, module)
        parts = [re.sub(r"-swift\.\w+$", "", p) for p in ident.split("/")[3:]]
        node = modules.setdefault(module, Node(module))
        for part in parts:
            node = node.members.setdefault(part, Node(part))
        node.decl, node.precise = decl, precise
    return modules


def render(node, value, supers, raw_types, same, indent=""):
    decl, precise, out = node.decl, node.precise or "", []
    if decl is None:
        sys.exit(f"stubs.py: {node.name} has members but no page of its own")
    actor = "@MainActor " if decl.startswith("@MainActor ") else ""
    decl = decl.removeprefix(actor)
    kind = decl.split()[0]
    members = list(node.members.values())
    inner = indent + "    "

    def body(rest):
        return [r for m in rest for r in render(m, value, supers, raw_types, same, inner)]

    if decl == f"class {node.name}":
        if precise.startswith("c:@T@"):
            head = f"public final class {node.name}"
        else:
            sup = supers.get(node.name) or sys.exit(f"stubs.py: no superclass line for {node.name}")
            head = f"open class {node.name}: {sup}"
        out += [f"{indent}{actor}{head} {{", *body(members), f"{indent}}}"]
    elif kind == "struct":
        init = next((m for m in members if m.decl.startswith("init(rawValue: ")), None)
        raw = init.decl[len("init(rawValue: "):-1] if init else None
        kinds = ("OptionSet" if precise.startswith("c:@E@") else "RawRepresentable, Hashable") if raw else None
        out.append(f"{indent}public struct {node.name}: {kinds + ', ' if kinds else ''}Sendable {{")
        if raw:
            out += [f"{inner}public let rawValue: {raw}", f"{inner}public init(rawValue: {raw}) {{ self.rawValue = rawValue }}"]
        out += [*body([m for m in members if m is not init]), f"{indent}}}"]
    elif kind == "enum":
        raw = raw_types.get(precise.removeprefix("c:@E@"))
        out.append(f"{indent}public enum {node.name}: {raw + ', ' if raw else ''}Sendable {{")
        for m in members:
            if m.decl.startswith("case "):
                out.append(f"{inner}{m.decl} = {value(m.precise.split('@')[-1])}" if raw else f"{inner}{m.decl}")
            elif not (raw and m.decl == f"init?(rawValue: {raw})"):  # Swift synthesises that one
                out += render(m, value, supers, raw_types, same, inner)
        out.append(f"{indent}}}")
    elif kind == "protocol":
        # Optional requirements need Objective-C; the stand-in protocol keeps the required ones.
        out += [f"{indent}public {decl} {{", *body([m for m in members if not m.decl.startswith("optional ")]), f"{indent}}}"]
    elif kind == "func" and precise.startswith("c:") and "->" in decl:
        # Swift imports C and Objective-C functions with results one may discard.
        out.append(f"{indent}@discardableResult public {decl} {{ unavailable() }}")
    elif kind == "func" or decl.startswith("init("):
        out.append(f"{indent}public {decl} {{ unavailable() }}")
    elif kind == "typealias":
        out.append(f"{indent}public {decl}")
    elif kind == "let" and node.name in same:
        out.append(f"{indent}public {decl} = {value(same[node.name])}")
    elif decl.endswith("{ get }") and precise.startswith("c:@Ea@"):
        out.append(f"{indent}public {decl[:-len('{ get }')]}{{ {value(precise.split('@')[-1])} }}")
    elif m := re.fullmatch(r"(?:(static|class) )?(var|let) (\w+): (.+?)(?: \{ get( set)? \})?", decl):
        scope, binding, name, type_, settable = m.groups()
        prefix = "class " if (scope, binding) == ("class", "var") else "static " if scope else ""
        accessors = "get { unavailable() } set { unavailable() }" if settable else "unavailable()"
        out.append(f"{indent}public {prefix}var {name}: {type_} {{ {accessors} }}")
    else:
        sys.exit(f"stubs.py: no rule for {decl!r}")
    return out


def generate():
    docs, c_lines, same, linux, doc_supers = parse(API.read_text())
    value, supers, raw_types = header_facts(c_lines)
    supers.update(doc_supers)
    files = {}
    for name, module in sorted(tree(docs).items()):
        lines = [
            "// Generated by tests/swift/stubs.py from ios/api/apple.txt (Apple's published declarations",
            "// and SDK header lines): do not edit. Compile-time stand-ins for Apple's " + name + " on",
            "// Linux; an Apple build uses the real framework, and nothing here may run.",
            *([f"@_exported import {other}" for other in REEXPORTS.get(name, [])] or ["import Foundation"]),
            "",
        ]
        lines += [f"public {decl}" for mod, decl in linux if mod == name]
        for node in module.members.values():
            lines += render(node, value, supers, raw_types, same)
        lines += ["", "private func unavailable() -> Never {",
                  f'    fatalError("{name} is Apple-only: this Linux stand-in exists to compile against")', "}", ""]
        files[OUT / name / f"{name}.swift"] = "\n".join(lines)
    return files


def main():
    files = generate()
    if "--check" in sys.argv:
        stale = [p for p, text in files.items() if not p.exists() or p.read_text() != text]
        extra = [p for p in OUT.rglob("*.swift") if p not in files]
        for p in stale + extra:
            print(f"stubs.py: {p.relative_to(ROOT)} is not what ios/api/apple.txt gives (run tests/swift/stubs.py)",
                  file=sys.stderr)
        sys.exit(1 if stale or extra else 0)
    for p, text in files.items():
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    print(f"stubs.py: {len(files)} modules, {sum(t.count(chr(10)) for t in files.values())} lines")


if __name__ == "__main__":
    main()
