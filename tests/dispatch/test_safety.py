"""Tests of the classifier's safety stage (dispatch.domain.classify.safety) and of the held-out figures.

The held-out sets (tests/dispatch/data/heldout.jsonl, safety_heldout.jsonl) were written and labelled by
the data README's rules before the classifier ever ran on them, and no rule is tuned on them: the rules
are tuned on the development set and on own_dev.jsonl. The one assertion on them is the one that must
never slip: every life-safety text is an emergency. Accuracies are printed (run with ``-s``).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import pytest

from dispatch.domain.classify import classify, decision, normalise
from dispatch.domain.classify.measure import format_figures, measure
from dispatch.domain.classify.model import CALM, DANGER, Model, train
from dispatch.domain.classify.safety import LEARNED, _live, detect, learned

DATA = Path(__file__).resolve().parent / "data"


@functools.cache
def labelled(name: str) -> tuple[dict[str, Any], ...]:
    """Return a labelled set from tests/dispatch/data; fail (never skip) when it is missing."""
    path = DATA / name
    if not path.is_file():
        pytest.fail(f"labelled set not found at {path}")
    with path.open(encoding="utf-8") as lines:
        return tuple(json.loads(line) for line in lines if line.strip())


def families(text: str) -> list[str]:
    """Return the danger families the safety stage finds in a text."""
    return [danger.family for danger in detect(normalise(text))]


# --- the held-out sets ---------------------------------------------------------------------------


def test_held_out_sets_are_big_enough_and_cover_every_register() -> None:
    rows = labelled("heldout.jsonl") + labelled("safety_heldout.jsonl")
    assert len(rows) >= 300
    assert sum(row.get("life_safety", False) for row in rows) >= 80
    assert {row["register"] for row in rows} >= {"zh", "zh-hant", "yue", "en"}
    assert {row["tier"] for row in rows} == {"emergency", "important", "complex", "general"}
    assert len({row["subcategory"] for row in rows}) == 23
    development = {row["text"] for row in labelled("complaints_dev.jsonl") + labelled("own_dev.jsonl")}
    assert not development & {row["text"] for row in rows}


def test_every_held_out_life_safety_text_is_an_emergency() -> None:
    safety = labelled("safety_heldout.jsonl")
    reports = [
        measure(safety, classifier=classify, name="held-out safety texts (tests/dispatch/data/safety_heldout.jsonl)"),
        measure(labelled("heldout.jsonl"), classifier=classify, name="held-out complaints (tests/dispatch/data/heldout.jsonl)"),
        measure(labelled("heldout.jsonl") + safety, classifier=classify, name="held-out, all (heldout.jsonl + safety_heldout.jsonl)"),
        measure(labelled("complaints_dev.jsonl"), classifier=classify, name="development set (complaints_dev.jsonl)"),
        measure(labelled("own_dev.jsonl"), classifier=classify, name="own development texts (own_dev.jsonl)"),
    ]
    print()
    for report in reports:
        print(format_figures(report, matrices=("category", "tier") if report is reports[2] else ()))
    missed = [row["text"] for row in safety if row["life_safety"] and classify(row["text"]).tier != "emergency"]
    assert missed == []
    assert reports[0].emergency_recall == 1.0


def test_negated_and_past_dangers_in_the_held_out_set_do_not_fire_the_safety_stage() -> None:
    silent = [row for row in labelled("safety_heldout.jsonl") if not row["life_safety"]]
    assert len(silent) >= 20
    fired = [(row["text"], families(row["text"])) for row in silent if families(row["text"])]
    print(f"\nnegated or past dangers: {len(silent) - len(fired)} of {len(silent)} silent; fired: {fired}")
    assert len(fired) <= len(silent) // 5


# --- the families, in every register -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "family", "subcategory"),
    [
        ("楼道里有燃气味，很冲", "gas", "fire_safety"),
        ("樓道裡一股瓦斯味", "gas", "fire_safety"),
        ("屋企有陣煤氣味", "gas", "fire_safety"),
        ("the gas meter is hissing and it smells", "gas", "fire_safety"),
        ("5楼走廊在冒烟", "fire", "fire_safety"),
        ("後樓梯有陣燶味", "fire", "fire_safety"),
        ("smoke pouring out of the bin room", "fire", "fire_safety"),
        ("我们被关在电梯里了", "trapped", "elevator"),
        ("升降機突然停咗 我喺入面出唔到嚟", "trapped", "elevator"),
        ("stuck in the lift between floors", "trapped", "elevator"),
        ("楼下的栏杆会电人", "electric", "electrical"),
        ("插座在冒火花", "electric", "electrical"),
        ("got an electric shock from the gate", "electric", "electrical"),
        ("水管爆了 厨房全淹了", "flood", "water"),
        ("water is dripping onto the fuse box", "flood", "water"),
        ("整栋楼停电了", "outage", "electrical"),
        ("7栋一直没水", "outage", "water"),
        ("外墙瓷砖掉下来了", "falling", "public_facility"),
        ("有个老人晕倒了 叫不醒", "injury", "security"),
    ],
)
def test_each_family_forces_an_emergency_with_its_evidence_first(text: str, family: str, subcategory: str) -> None:
    result = classify(text)
    assert result.tier == "emergency", result
    assert result.matched[0].startswith(f"safety:{family}:"), result.matched
    assert subcategory in (result.subcategory, result.category), result


def test_the_evidence_names_the_words_that_fired() -> None:
    evidence = classify("樓道裡一股瓦斯味很濃").matched[0]
    assert evidence.startswith("safety:gas:") and "瓦斯" in evidence


@pytest.mark.parametrize(
    "text",
    [
        "上次困人的事已经处理好了，谢谢",
        "燃气公司来检查过了 没有漏气",
        "不是着火，是烟感器坏了一直在叫",
        "没有人受伤，就是滑梯的螺丝松了",
        "No one was hurt, the slide just has a loose bolt",
        "Nobody is stuck, the lift is just noisy",
        "请问明天几点停电？",
        "万一着火了，楼道堆这么多东西怎么逃生",
        "差点被楼上扔下来的烟头砸到",
        "消防演练的时候烟雾很大",
        "The burst pipe from Monday was fixed, thanks",
        "楼上装修把阳台的墙砸掉了",
        "没有电梯的问题，是门禁坏了",
        "邻居在楼道里抽烟",
    ],
)
def test_negated_past_unreal_and_near_miss_dangers_do_not_fire(text: str) -> None:
    assert families(text) == []
    assert classify(text).tier != "emergency"


def test_a_past_danger_before_a_present_one_still_fires() -> None:
    result = classify("上次电梯坏了的事已经修好了 现在楼道里又有煤气味了")
    assert result.tier == "emergency"
    assert result.matched[0] == "safety:gas:煤气味"


def test_typing_without_punctuation_with_a_polite_preamble_and_abbreviations() -> None:
    assert classify("您好 打扰了 我是8栋的业主 之前反映过电梯异响 现在我妈被困在里面").tier == "emergency"
    assert classify("wy快来 3栋dt困人了").subcategory == "elevator"
    assert classify("电题坏了 有人困在里面 快").tier == "emergency"


def test_an_outage_with_a_question_is_still_an_emergency() -> None:
    result = classify("整栋楼停电了 孩子发烧需要用雾化器 请问什么时候能恢复")
    assert (result.category, result.subcategory, result.tier) == ("facility", "electrical", "emergency")


@pytest.mark.parametrize(
    "text",
    [
        "请问这周六停水是几点到几点",
        "请问停电什么时候能恢复 通知上说下午三点",
        "請問這個禮拜六停水是幾點到幾點",
        "二次供水的水箱什么时候清洗 清洗的时候会停水吗",
        "it would help if power cuts were announced in the group a few days ahead",
        "我家有个插座没电了 可以派电工来看下吗",
    ],
)
def test_a_question_about_a_planned_cut_or_one_dead_socket_is_not_an_outage(text: str) -> None:
    assert "outage" not in families(text)


@pytest.mark.parametrize(
    "text",
    [
        "停电了 什么时候能恢复",
        "整栋楼停电了 请问什么时候能恢复",
        "成座冇水呀 又冇通知 搞咩呀",
        "power's out in the whole of block 8, no notice, been an hour",
        "停水通知都没有 现在整栋楼没水了",
    ],
)
def test_an_outage_happening_now_fires_even_with_a_question_or_a_notice_word(text: str) -> None:
    assert "outage" in families(text)


@pytest.mark.parametrize(
    ("text", "family"),
    [
        ("部𨋢困咗人呀 8座 快啲嚟", "trapped"),
        ("电梯stuck了 有人在里面 7栋 快来", "trapped"),
        ("楼道里 gas 味好重 3栋", "gas"),
        ("there's a hissing noise behind the stove and the kitchen reeks of gas", "gas"),
        ("着伙了 12栋地库 快叫人", "fire"),
        ("啲電線甩咗落地 仲有電㗎 有細路喺度玩", "electric"),
        ("雨水顺着墙流进了楼道的配电箱 里面一直滋滋响", "flood"),
        ("大风把小区的树刮倒了 压在一个路人身上 快来人", "falling"),
        ("there's a guy with a knife shouting at people by the north gate", "threat"),
    ],
)
def test_the_families_read_cantonese_mixed_text_and_typos(text: str, family: str) -> None:
    assert family in families(text)
    assert classify(text).tier == "emergency"


def test_a_stuck_lift_button_is_not_a_person_stuck() -> None:
    assert families("Hi, the button for floor 9 in the right-hand lift of block 3 is stuck") == []
    assert "trapped" in families("My neighbour is stuck in the lift, the alarm button does not work")


def test_the_safety_stage_places_a_text_the_topic_could_not() -> None:
    result = classify("瓦斯味很重 在二楼")
    assert (result.category, result.subcategory, result.tier, result.department) == ("facility", "fire_safety", "emergency", "engineering")


def test_an_injury_keeps_the_place_it_happened() -> None:
    result = classify("3栋的狗把我儿子咬了 在流血")
    assert (result.subcategory, result.tier) == ("pets", "emergency")


@pytest.mark.parametrize(
    ("text", "tier"),
    [
        ("多谢前晚值班的维修师傅 我老豆困咗喺部𨋢入面 佢廿分钟就到 好有耐性", "general"),
        ("Thank you to the guard who stayed with my dad when he fainted in the lobby, the ambulance came fast.", "general"),
        ("谢谢上次帮忙修水管的师傅 但是现在厨房天花板又在往下灌水 插座那里也湿了", "emergency"),
    ],
)
def test_thanks_for_a_rescue_that_is_over_are_not_an_emergency_but_a_danger_now_in_them_is(text: str, tier: str) -> None:
    result = classify(text)
    assert result.tier == tier, result
    if tier == "general":
        assert result.subcategory == "praise"


@pytest.mark.parametrize(
    ("text", "subcategory"),
    [
        ("7栋3楼楼道的电表箱在冒烟 一股塑料烧焦的味道", "electrical"),
        ("There's smoke coming out of the socket behind the fridge and a burning smell", "electrical"),
        ("楼道里全是烟 好像哪家着火了", "fire_safety"),
    ],
)
def test_smoke_from_a_socket_or_a_meter_box_is_electrical_and_other_smoke_fire_safety(text: str, subcategory: str) -> None:
    result = classify(text)
    assert (result.subcategory, result.tier) == (subcategory, "emergency"), result


def test_an_english_sentence_ends_a_condition() -> None:
    text = "Not sure if this is the right place. The pipe above the bin room just burst and water is pouring into the lobby."
    assert [danger.family for danger in detect(normalise(text))] == ["flood"]


@pytest.mark.parametrize("text", ["停\n电\n了\n整\n栋\n楼", "插座 烫手 一股 烧塑料 味 灯 一闪一闪", "s p a r k s coming out of the socket"])
def test_a_text_spaced_out_line_by_line_word_by_word_or_letter_by_letter_is_read_whole(text: str) -> None:
    assert classify(text).tier == "emergency", normalise(text)


def test_a_text_spaced_out_character_by_character_is_read_as_one() -> None:
    text = "物 业 你 好 我 在 3 号 楼 电 梯 里 面 出 不 去 了 灯 也 灭 了"
    assert normalise(text).startswith("物业你好我在3号楼电梯里面出不去了")
    assert classify(text).tier == "emergency"
    assert normalise("电梯坏了 楼道灯也不亮") == "电梯坏了 楼道灯也不亮"  # clause spaces stay where most characters are not spaced


@pytest.mark.parametrize(
    ("text", "fires"),
    [
        # a condition makes the rest of its sentence imagined, until a clause says now
        ("请问要是电梯停在两层中间 人在里面应该先按哪个键 想教一下家里老人", False),
        ("Who do we ring if someone gets stuck in the lift after midnight? Want to save the number.", False),
        ("万一燃气泄漏 煤气味很重的时候 是先开窗还是先关阀门", False),
        ("要是你们再不派人来 我婆婆就撑不住了 她现在还被困在电梯里", True),
        ("I'm stuck in the lift at block 3, what do I do if the alarm button doesn't work?", True),
        # an empty lift, a cut on a named day
        ("电梯停在5楼 里面没人 麻烦找人修一下", False),
        ("The lift is stuck between floors again, nobody inside, please send the engineer", False),
        ("Lift 3 in tower 2 shows an error and is not moving, it's empty, I checked", False),
        ("Will the power cut on Saturday affect the lifts? My father uses a wheelchair.", False),
        ("我被困在电梯里 按铃里面没人应", True),
        ("My son is stuck in the lift, nobody is answering the intercom", True),
        # an all-clear, a figure of speech, a detector beeping, a fear, a closed log, a risk that hurt nobody
        ("刚才8楼烟感响了 原来是我家煎鱼 已经开窗了 不用派人上来", False),
        ("The smoke by Block 5 is just the BBQ on the podium, no fire, sorry for the calls", False),
        ("物业费涨成这样 气得我直冒烟 这个价我不认", False),
        ("楼上天天半夜剁骨头 吵得我想跳楼 说了好几次了", False),
        ("走廊的烟雾探测器一直嘀嘀响 应该是电池没电了", False),
        ("地库里乱停车 救护车都进不来 出了事怎么办", False),
        ("值班保安又在岗亭里睡觉 敲窗叫都叫不醒", False),
        ("The pool tiles by the ladder are cracked and sharp. Someone is going to cut their foot open.", False),
        ("滑梯边上翘起一块铁皮 很利 怕划到小朋友 请尽快处理", False),
        ("The drill at 10 was fine but the alarm is so loud on the top floors it hurt my ears.", False),
        ("The fire pump test this morning was very loud, could it be after 9 next time?", False),
        ("我們這棟的火警警報系統一直顯示故障 已經反映兩次了", False),
        ("电梯最近老是突然往下掉一截再停住 已经好几回了 老人都不敢坐", False),
        ("火警钟响紧 唔系演习嚟㗎 楼梯好大烟 我哋喺18楼落唔到", True),
        ("This is not a drill, there is smoke pouring out of the 9th floor corridor", True),
        ("6号楼外墙又掉了一块砖 摔在人行道上碎了 当时没人经过", False),
        ("外墙掉下来一块砖 砸到人了 没人管吗", True),
        ("车库B区墙上有一截电线露在外面 铜丝都看得见 麻烦尽快处理", False),
        ("车库B区墙上有一截电线露在外面 刚才还冒火花", True),
        ("09:40 6栋2号梯困人 已解困 内2人 无受伤 工单#DT0700关闭", False),
        ("09:40 6栋2号梯困人 已解困 现在3号梯又困人了 内1人", True),
        ("单元门口有只走失的小狗 戴项圈 前台先看着", False),
        ("Caller wants us to mediate with the tenant upstairs over cigarette smoke coming through the vent", False),
        ("楼上有烧东西的味道 烟从窗户飘进来 是不是着火了", True),
        # a claim for damage done, unless the water is still coming
        ("上个月水管爆了把我家木地板泡坏了 物业说不归他们管 我要求赔偿", False),
        ("楼上水管爆了 现在水还在往我家灌 他们说不是他们的责任 我要求赔偿", True),
    ],
)
def test_the_safety_stage_fires_on_a_danger_now_and_not_on_one_imagined_over_explained_or_only_a_risk(text: str, fires: bool) -> None:
    assert (classify(text).tier == "emergency") is fires, classify(text)


# --- the learned backstop ----------------------------------------------------------------------

SITUATIONS = [
    "my neighbour upstairs is 82 and lives alone, her newspapers have piled up outside the door since Tuesday "
    "and she does not pick up the phone",
    "车库出口那边有个外卖小哥连人带车侧翻在坡道上 半天没爬起来",
]


@pytest.mark.parametrize("text", SITUATIONS)
def test_the_danger_model_finds_a_situation_no_family_names(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert detect(normalise(text)) == ()
    result = classify(text)
    assert result.tier == "emergency" and result.needs_review, result
    assert result.matched[0].startswith(f"safety:{LEARNED}:"), result.matched
    monkeypatch.setattr(decision, "DANGER_MODEL_MIN", 2.0)  # the backstop off: the families alone miss it
    assert classify(text).tier != "emergency"


def eager_model(*texts: str) -> Model:
    """Return a danger model that has only ever seen these texts, as emergencies: it would raise them all."""
    return train([*((normalise(text), DANGER) for text in texts), (normalise("物业费发票已经收到了"), CALM)])


SILENCED = {
    "short": "我儿子找不到了",
    "no person": "小区路面有个坑 骑电动车经过会颠一下 晚上看不清",
    "spared": "the lift at block 4 dropped a couple of floors with my mum inside, luckily nobody was hurt",
    "thrown": "someone threw a glass bottle from upstairs and it exploded right beside the kids on the lawn",
}


@pytest.mark.parametrize("reason", sorted(SILENCED))
def test_the_danger_model_is_silent_on_short_texts_spared_people_thrown_objects_and_no_person(reason: str) -> None:
    text = normalise(SILENCED[reason])
    model = eager_model(SILENCED[reason])
    assert model.probability(" ".join(_live(text)), DANGER) >= decision.DANGER_MODEL_MIN  # the model alone would raise it
    assert learned(text, model, decision.DANGER_MODEL_MIN) == ()


def test_the_danger_model_speaks_where_no_gate_stops_it_and_says_why() -> None:
    text = "楼下花园的长椅上坐着一个老人 一直在发抖 问他话也说不清楚"
    (danger,) = learned(normalise(text), eager_model(text), decision.DANGER_MODEL_MIN)
    probability, grams = danger.evidence.split(":")
    assert danger.family == LEARNED and danger.subcategory is None and float(probability) >= 0.5
    assert grams and all(gram.replace("_", " ") in normalise(text) for gram in grams.split("+")), danger


def test_thanks_and_wishes_are_never_raised_by_the_danger_model() -> None:
    thanks = "感谢保安大哥那天一直陪着在花园长椅上发抖说不清话的老伯 直到他家人赶到"
    wish = "建议在每栋楼下都放一台自动体外除颤器 老人多 万一有人晕倒也来得及"
    for text, intent in ((thanks, "praise"), (wish, "suggestion")):
        assert detect(normalise(text)) == ()
        result = classify(text, danger_model=eager_model(thanks, wish))
        assert (result.subcategory, result.tier) == (intent, "general"), result


# --- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "😀😀😀🔥",
        "Der Aufzug ist sehr schön",
        "ありがとうございます",
        "asdf qwer zxcv",
        "?!?!",
        "。。。",
        "电梯 lift 😀 ascenseur",
    ],
)
def test_bad_input_is_other_for_review_or_a_placed_text_never_a_crash(text: str) -> None:
    result = classify(text)
    assert result.category == "other" or result.subcategory == "elevator", result
    if result.category == "other":
        assert result.needs_review and result.tier == "general" and result.confidence <= 0.3


def test_a_fire_emoji_alone_is_not_an_emergency_but_goes_to_a_person() -> None:
    result = classify("🔥🔥🔥")
    assert (result.category, result.tier, result.needs_review) == ("other", "general", True)


def test_a_ten_thousand_character_text_is_classified_without_error() -> None:
    result = classify("楼道灯坏了。" * 1700)
    assert result.subcategory == "electrical"
