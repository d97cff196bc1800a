"""README.zh-CN.md is README.md in Chinese, kept in step with it.

Each heading of README.md (`##` and deeper, outside code blocks) appears in README.zh-CN.md at the same level and
in the same order as `## 中文标题 · English heading`, the part after ` · ` being README.md's heading exactly; the
Chinese file starts like the English one (the title and the two commands); README.md links the Chinese file near
its top; both files hold the same code blocks, character for character; and the Chinese file's `#anchor` links
point at headings that exist. A failure here after editing README.md means: make the same change in README.zh-CN.md.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
README_ZH = ROOT / "README.zh-CN.md"

SEPARATOR = " · "
FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
HEADING = re.compile(r"^(#{1,6}) +(.+?)(?: +#+)? *$")
LINK = re.compile(r"\[([^\]]*)\]\(([^)\s]*)\)")
INLINE_CODE = re.compile(r"`[^`]*`")
# What GitHub (github-slugger) keeps of a heading in its anchor besides '-' and ' ': letters (CJK included), marks,
# decimal and letter numbers, connector punctuation such as '_'. Everything else, '·' among it, is dropped.
WORD_CATEGORIES = {"Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me", "Nd", "Nl", "Pc"}
HINT = (
    "README.zh-CN.md is README.md in Chinese and must follow it: headings as '## 中文标题 · English heading', "
    "code blocks copied verbatim. Update README.zh-CN.md along with README.md."
)


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def parse(text: str) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """The prose lines and the fenced code blocks (fences included) of a Markdown text, each with its line number."""
    prose: list[tuple[int, str]] = []
    blocks: list[tuple[int, str]] = []
    block: list[str] = []
    fence, start = "", 0
    for number, line in enumerate(text.splitlines(), start=1):
        marker = FENCE.match(line)
        if not fence:
            if marker:
                fence, start, block = marker.group(1), number, [line]
            else:
                prose.append((number, line))
            continue
        block.append(line)
        closing = marker and line.strip() == marker.group(1)  # a closing fence has no info string
        if marker and closing and marker.group(1)[0] == fence[0] and len(marker.group(1)) >= len(fence):
            blocks.append((start, "\n".join(block)))
            fence = ""
    if fence:
        blocks.append((start, "\n".join(block)))  # unclosed: it runs to the end, as in CommonMark
    return prose, blocks


def headings(text: str, deepest: int = 6) -> list[tuple[int, str, int]]:
    """(level, text, line number) of every heading of level 2 to `deepest` outside code blocks."""
    found = []
    for number, line in parse(text)[0]:
        match = HEADING.match(line)
        if match and 2 <= len(match.group(1)) <= deepest:
            found.append((len(match.group(1)), match.group(2), number))
    return found


def code_blocks(text: str) -> list[str]:
    return [block for _, block in parse(text)[1]]


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: its text lowercased, punctuation dropped (CJK kept), spaces made '-'."""
    text = LINK.sub(r"\1", heading).replace("`", "").lower()
    kept = "".join(char for char in text if char in "- " or unicodedata.category(char) in WORD_CATEGORIES)
    return kept.replace(" ", "-")


def anchors(text: str) -> set[str]:
    """Every anchor GitHub gives the headings of a text (a repeated slug gets -1, -2 …)."""
    seen: dict[str, int] = {}
    result = set()
    for _, line in parse(text)[0]:
        match = HEADING.match(line)
        if not match:
            continue
        base = slug(match.group(2))
        count = seen.get(base, 0)
        seen[base] = count + 1
        result.add(base if count == 0 else f"{base}-{count}")
    return result


def is_chinese(char: str) -> bool:
    return "CJK" in unicodedata.name(char, "")


def show(level: int, text: str) -> str:
    return f"{'#' * level} {text}"


def test_every_heading_of_the_readme_is_in_the_chinese_readme_at_its_level_and_place() -> None:
    english = headings(read(README))
    chinese = headings(read(README_ZH))
    malformed = [
        f"README.zh-CN.md:{number}: {show(level, text)!r} is not '中文标题{SEPARATOR}English heading'"
        for level, text, number in chinese
        if SEPARATOR not in text or not any(map(is_chinese, text.split(SEPARATOR)[0]))
    ]
    assert not malformed, "\n".join([*malformed, HINT])

    wanted = [(level, text) for level, text, _ in english]
    have = [(level, text.split(SEPARATOR, 1)[1]) for level, text, _ in chinese]
    if wanted == have:
        return
    problems = [
        f"README.md:{number}: {show(level, text)!r} has no "
        f"'{show(level, '中文标题' + SEPARATOR + text)}' in README.zh-CN.md"
        for level, text, number in english
        if (level, text) not in have
    ]
    problems += [
        f"README.zh-CN.md:{number}: {show(level, text)!r} matches no heading of README.md (renamed or removed there?)"
        for (level, text, number), pair in zip(chinese, have, strict=True)
        if pair not in wanted
    ]
    if not problems:  # the same headings, but in another order, at other levels or repeated
        for position, (one, other) in enumerate(zip(wanted, have, strict=False)):
            if one != other:
                level, text, number = chinese[position]
                problems.append(
                    f"README.zh-CN.md:{number}: heading {position + 1} is {show(level, text)!r}, "
                    f"but README.md's heading {position + 1} is {show(*one)!r} (line {english[position][2]})"
                )
                break
        else:
            problems.append(f"README.md has {len(wanted)} headings, README.zh-CN.md {len(have)}")
    assert not problems, "\n".join([*problems, HINT])


def test_the_chinese_readme_starts_with_the_title_and_the_two_commands_then_links_back() -> None:
    english, chinese = read(README), read(README_ZH)
    first = code_blocks(english)[0]
    commands = first.splitlines()[1:3]
    assert [line.split()[:2] for line in commands] == [["make", "demo"], ["make", "test"]], (
        "README.md should open with the two commands, `make demo` and `make test`, in its first code block; "
        f"it has {first!r}"
    )
    top = english[: english.index(first) + len(first)]
    assert chinese.startswith(top), (
        f"README.zh-CN.md must start exactly as README.md does, with its title and its first code block:\n{top}\n{HINT}"
    )
    following = [line for line in chinese[len(top) :].splitlines() if line.strip()][:2]
    assert "[English](README.md)" in following, (
        f"README.zh-CN.md should link back with [English](README.md) right after the two commands; it has {following}"
    )


def test_the_readme_links_the_chinese_readme_near_its_top() -> None:
    lines = read(README).splitlines()[:12]
    assert any("(README.zh-CN.md)" in line for line in lines), (
        "README.md should link README.zh-CN.md within its first lines (after the two commands): "
        "中文说明：[README.zh-CN.md](README.zh-CN.md)"
    )


def test_every_code_block_of_the_readme_is_in_the_chinese_readme_verbatim() -> None:
    english, chinese = read(README), read(README_ZH)
    theirs = code_blocks(chinese)
    missing = [
        f"README.md:{number}: this code block is not in README.zh-CN.md as it is:\n{block}"
        for number, block in parse(english)[1]
        if block not in theirs
    ]
    assert not missing, "\n".join([*missing, HINT])
    stale = [block for block in theirs if block not in code_blocks(english)]
    assert not stale, "\n".join(
        [f"README.zh-CN.md has a code block README.md no longer has:\n{block}" for block in stale] + [HINT]
    )


def test_the_chinese_readmes_anchor_links_point_at_real_headings() -> None:
    chinese = read(README_ZH)
    targets = {"": anchors(chinese), "README.md": anchors(read(README))}
    broken = []
    for number, line in parse(chinese)[0]:
        for text, url in LINK.findall(INLINE_CODE.sub("", line)):
            page, hashmark, anchor = url.partition("#")
            if hashmark and page in targets and anchor not in targets[page]:
                broken.append(f"README.zh-CN.md:{number}: [{text}]({url}) points at no heading")
    assert not broken, "\n".join(broken)


def test_slug_follows_github() -> None:
    assert slug("Your SDK, unchanged") == "your-sdk-unchanged"
    assert slug("Mutual TLS on `/secapi/`") == "mutual-tls-on-secapi"
    assert slug("Python: requests, wechatpy, wechatpayv3") == "python-requests-wechatpy-wechatpayv3"
    assert slug("你的 SDK 无需改动 · Your SDK, unchanged") == "你的-sdk-无需改动--your-sdk-unchanged"
