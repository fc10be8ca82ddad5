from tuneforge.evaluate.slices import CJK, OTHER, indices_by_script


def test_texts_with_any_cjk_character_form_their_own_group() -> None:
    texts = ["退款", "refund", "订单 A1029 refund", "パスワード", "비밀번호", "Ünïcödé"]
    assert indices_by_script(texts) == {CJK: [0, 2, 3, 4], OTHER: [1, 5]}


def test_no_groups_when_every_text_is_in_one() -> None:
    assert indices_by_script(["refund", "parcel"]) == {}
    assert indices_by_script(["退款", "包裹"]) == {}
