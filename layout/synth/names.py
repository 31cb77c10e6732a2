"""Plausible (invented) Chinese place names for the synthetic layers."""

from __future__ import annotations

import numpy as np

_FIRST = list(
    "白石龙青金凤桥河坝溪岩松柏梅桃杨柳双三五七九新老东西南北中上下大小高长"
    "黄红绿清明安平太永兴福寿宝元望云雪月星花竹林山水田沙马牛鹿鹤羊虎狮凰"
    "临靖丰宁和顺嘉利昭朝旺苍剑广元普碧翠紫银铜铁天文武仁义礼智信德庙观寺"
)
_SECOND = list(
    "坝河溪桥岩山湾坪垭沟口关场寺庙观园林田塘院坡岭峰台洞滩渡湖泉井铺"
    "家营寨堡城门阳水江峡谷"
)
_PRIVATE = ("小太阳", "阳光", "童心", "蓝天", "彩虹", "育才", "启明", "金色摇篮", "贝贝",
            "爱心", "小天使", "智慧树", "新苗", "春蕾", "博雅", "小白鸽")
_CN_NUM = "一二三四五六七八九十"


def cn_ordinal(n: int) -> str:
    """Chinese numeral for 1..99 (e.g. 12 -> 十二).

    Parameters
    ----------
    n : int
        Positive integer below 100.

    Returns
    -------
    str

    """
    if n <= 10:
        return _CN_NUM[n - 1]
    tens, ones = divmod(n, 10)
    head = "" if tens == 1 else _CN_NUM[tens - 1]
    return head + "十" + (_CN_NUM[ones - 1] if ones else "")


def unique_stems(rng: np.random.Generator, n: int, taken: set[str] | None = None) -> list[str]:
    """Draw ``n`` distinct two-character name stems not in ``taken`` (which is updated).

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness.
    n : int
        Number of stems.
    taken : set of str, optional
        Stems already used; new stems are added to it.

    Returns
    -------
    list of str

    """
    taken = set() if taken is None else taken
    out: list[str] = []
    while len(out) < n:
        k = 2 * (n - len(out)) + 8
        a = rng.integers(0, len(_FIRST), k)
        b = rng.integers(0, len(_SECOND), k)
        for i, j in zip(a, b, strict=True):
            stem = _FIRST[i] + _SECOND[j]
            if _FIRST[i] != _SECOND[j] and stem not in taken:
                taken.add(stem)
                out.append(stem)
                if len(out) == n:
                    break
    return out


def private_name(rng: np.random.Generator) -> str:
    """Name stem of a private kindergarten (e.g. 阳光).

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    str

    """
    return _PRIVATE[int(rng.integers(0, len(_PRIVATE)))]
