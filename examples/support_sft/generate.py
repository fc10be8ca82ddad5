"""Write qa.jsonl: customer-service Q&A of the fictional shop Maple & Moss (枫苔家居), Chinese and English.

Every answer states the shop's own policies, the same in both languages, which no pretrained model can know:
15-day returns, refunds within 5 working days, delivery in 3-5 working days, free shipping from ¥199, the
Maple Points loyalty programme, hotline 400-820-3366 (9:00-21:00). Questions are hand-written paraphrases;
answers are one canonical agent answer per topic and language. Run: python examples/support_sft/generate.py
"""

from __future__ import annotations

import json
import random
from pathlib import Path

# topic: (Chinese questions, Chinese answer, English questions, English answer)
TOPICS: dict[str, tuple[list[str], str, list[str], str]] = {
    "return_window": (
        ["退货期限是多久?", "买了东西不想要了，多少天内可以退?", "收到货十天了还能退吗?", "你们支持七天无理由退货吗?", "退货有时间限制吗?", "过了半个月还能退货吗?"],
        "枫苔家居支持签收后15天内退货，商品需未使用并保留原包装。请在App「我的订单」里点「申请退货」。",
        ["How long do I have to return an item?", "What is your return window?", "Can I still return something I got ten days ago?", "Do you accept returns after two weeks?", "Is there a time limit for returns?", "How many days do I have to send something back?"],
        "At Maple & Moss you can return items within 15 days of delivery, unused and in the original packaging. Start the return under My Orders > Request return in the app.",
    ),
    "refund_time": (
        ["退款多久到账?", "退货寄回去了，钱什么时候退给我?", "退款一般要几天?", "我的退款怎么还没到?", "退款会退到哪里?", "退款到账时间是多久?"],
        "仓库收到退货并检查后，5个工作日内原路退款到您的付款账户。超过5个工作日未到账请拨打客服热线400-820-3366。",
        ["How long does a refund take?", "When will I get my money back after returning?", "I sent my return, when is the refund?", "Where does my refund go?", "My refund has not arrived yet, how long should it take?", "How many days until the refund shows up?"],
        "Once our warehouse receives and checks your return, we refund the original payment method within 5 working days. If it takes longer, call our hotline 400-820-3366.",
    ),
    "delivery_time": (
        ["多久能送到?", "下单后几天发货到家?", "快递一般要几天?", "现在下单什么时候能收到?", "配送时间是多久?", "你们发货慢吗，几天能到?"],
        "普通配送下单后3-5个工作日送达（中国大陆）。下单后可在「我的订单」查看物流。",
        ["How long does delivery take?", "When will my order arrive?", "How many days is shipping?", "If I order today, when do I get it?", "What are your delivery times?", "How fast do you ship?"],
        "Standard delivery takes 3-5 working days within mainland China. You can track the parcel under My Orders.",
    ),
    "shipping_fee": (
        ["运费怎么算?", "包邮吗?", "满多少包邮?", "买一个小东西要付运费吗?", "标准配送运费多少?", "运费是多少钱?"],
        "订单满199元包邮，不满199元收取12元标准运费。",
        ["How much is shipping?", "Do you offer free shipping?", "What is the minimum for free delivery?", "Do I pay shipping on a small order?", "What does standard shipping cost?", "Is delivery free?"],
        "Shipping is free on orders of ¥199 or more; below that, standard shipping costs ¥12.",
    ),
    "express": (
        ["有加急配送吗?", "能不能明天就送到?", "次日达怎么收费?", "我急用，有没有更快的快递?", "几点前下单能次日送达?", "加急要多少钱?"],
        "有次日达服务：工作日14:00前下单，加付25元即可次日送达（部分城市）。金卡会员次日达免费。",
        ["Do you have express delivery?", "Can I get it tomorrow?", "How much is next-day delivery?", "I need it urgently, is there faster shipping?", "What is the cut-off time for next-day delivery?", "What does express shipping cost?"],
        "Yes: order before 14:00 on a working day and add ¥25 for next-day delivery (selected cities). Gold members get next-day delivery free.",
    ),
    "loyalty": (
        ["你们有会员积分吗?", "枫叶积分怎么用?", "积分怎么抵扣?", "购物能攒积分吗?", "积分有什么用?", "会员积分是怎么算的?"],
        "我们的会员计划叫「枫叶积分」：每消费1元得1积分，100积分可抵5元，下单时在结算页勾选使用。",
        ["Do you have a loyalty programme?", "How do Maple Points work?", "How do I use my points?", "Do I earn points when I shop?", "What are points worth?", "How are loyalty points calculated?"],
        "Our loyalty programme is Maple Points: you earn 1 point per ¥1 spent, and 100 points take ¥5 off. Tick 'Use points' at checkout.",
    ),
    "gold_tier": (
        ["怎么成为金卡会员?", "金卡会员有什么好处?", "会员等级怎么升级?", "金卡要消费多少?", "高级会员有什么权益?", "怎样升级到金卡?"],
        "一年内累计消费满3000元自动升级为枫叶金卡会员，享受次日达免费和双倍积分。",
        ["How do I become a Gold member?", "What are the Gold member benefits?", "How do membership tiers work?", "How much do I need to spend for Gold?", "What perks do top members get?", "How can I upgrade to Gold?"],
        "Spend ¥3000 within a year and you become a Maple Gold member automatically, with free next-day delivery and double points.",
    ),
    "hotline": (
        ["客服电话是多少?", "怎么联系人工客服?", "有电话可以打吗?", "客服几点上班?", "人工客服工作时间是什么时候?", "我想打电话投诉，号码多少?"],
        "客服热线400-820-3366，每天9:00-21:00有人工客服；也可以发邮件到help@maplemoss.example。",
        ["What is your phone number?", "How can I talk to a person?", "Is there a hotline I can call?", "What are your customer service hours?", "When is live support available?", "I want to call support, which number?"],
        "Call our hotline 400-820-3366, staffed every day from 9:00 to 21:00, or e-mail help@maplemoss.example.",
    ),
    "damaged": (
        ["收到的东西坏了怎么办?", "包裹里的杯子碎了", "商品到货有破损", "收到的灯不亮，是坏的", "快递把东西压坏了", "货到了发现有划痕怎么办?"],
        "很抱歉！请在签收后48小时内在「我的订单」上传破损照片申请售后，我们免费补发新品，无需寄回。",
        ["My item arrived damaged, what now?", "The mug in my parcel is broken", "The product came with a crack", "The lamp I received does not work", "The courier crushed my package", "What if my order arrives scratched?"],
        "We are sorry! Report it with photos under My Orders within 48 hours of delivery and we will send a free replacement; no need to return the damaged item.",
    ),
    "warranty": (
        ["家具有保修吗?", "保修期多长?", "台灯用了半年坏了能修吗?", "电器保修多久?", "过了退货期坏了怎么办?", "你们提供质保吗?"],
        "家具和电器类商品享受1年免费保修，从签收日算起。请拨打400-820-3366或在App提交保修申请。",
        ["Is furniture covered by a warranty?", "How long is the warranty?", "My desk lamp broke after six months, can it be fixed?", "How long are electrical items guaranteed?", "It broke after the return window, what can I do?", "Do you offer a guarantee?"],
        "Furniture and electrical items have a 1-year free warranty from the delivery date. Call 400-820-3366 or file a warranty claim in the app.",
    ),
    "cancel": (
        ["订单能取消吗?", "下错单了怎么取消?", "刚下单不想要了", "发货前可以取消订单吗?", "怎么取消订单?", "已经付款了还能取消吗?"],
        "发货前可以在「我的订单」免费取消，款项原路退回；已发货的订单请签收后按15天退货流程办理。",
        ["Can I cancel my order?", "I ordered the wrong thing, how do I cancel?", "I just ordered and changed my mind", "Can I cancel before it ships?", "How do I cancel an order?", "I already paid, can I still cancel?"],
        "You can cancel free of charge under My Orders until the order ships, and the money goes back the way you paid. Once shipped, use the 15-day return instead.",
    ),
    "address": (
        ["收货地址填错了能改吗?", "怎么修改收货地址?", "下单后可以改地址吗?", "我搬家了，订单地址怎么改?", "地址写错了怎么办?", "发货后还能改地址吗?"],
        "发货前可以在「我的订单」-「修改地址」自行修改；发货后无法修改，请联系400-820-3366协助转寄。",
        ["Can I change my delivery address?", "I entered the wrong address", "How do I update the shipping address?", "I moved, how do I change the order address?", "Can the address be changed after ordering?", "Can I change the address after it ships?"],
        "Before shipping you can change it yourself under My Orders > Change address; after shipping it can no longer be changed, so call 400-820-3366 and we will help redirect it.",
    ),
    "payment": (
        ["支持哪些付款方式?", "可以用微信支付吗?", "能刷信用卡吗?", "支持支付宝吗?", "付款方式有哪些?", "可以货到付款吗?"],
        "我们支持支付宝、微信支付、银联卡以及Visa/Mastercard信用卡，暂不支持货到付款。",
        ["Which payment methods do you accept?", "Can I pay with WeChat Pay?", "Do you take credit cards?", "Is Alipay supported?", "How can I pay?", "Do you offer cash on delivery?"],
        "We accept Alipay, WeChat Pay, UnionPay and Visa/Mastercard credit cards; cash on delivery is not available.",
    ),
    "invoice": (
        ["怎么开发票?", "可以开电子发票吗?", "发票在哪里下载?", "公司报销需要发票", "发票什么时候能开出来?", "能开增值税发票吗?"],
        "签收后24小时内系统自动开具电子发票，可在「我的订单」-「发票」下载，需要抬头请下单时填写。",
        ["How do I get an invoice?", "Do you issue electronic invoices?", "Where can I download my invoice?", "I need an invoice for my company", "When is the invoice issued?", "Can I get a VAT invoice?"],
        "An electronic invoice is issued automatically within 24 hours of delivery; download it under My Orders > Invoice. Add your company title when ordering.",
    ),
    "international": (
        ["能寄到国外吗?", "支持海外配送吗?", "香港能送吗?", "可以发货到美国吗?", "你们国际快递吗?", "台湾地区能寄吗?"],
        "目前只配送中国大陆和香港地区：大陆3-5个工作日，香港7-10个工作日，暂不支持其他国家和地区。",
        ["Do you ship abroad?", "Is international delivery available?", "Can you deliver to Hong Kong?", "Do you ship to the US?", "Do you offer international shipping?", "Can I order from Europe?"],
        "We currently deliver only to mainland China and Hong Kong: 3-5 working days on the mainland, 7-10 working days to Hong Kong. Other countries are not served yet.",
    ),
    "price_match": (
        ["买完就降价了怎么办?", "有价格保护吗?", "降价了能退差价吗?", "刚买就打折了", "你们保价吗?", "价格保护期多长?"],
        "我们提供7天价格保护：签收后7天内同款降价，可在「我的订单」申请退差价，差价以积分或原路退回。",
        ["The price dropped right after I bought it", "Do you have price protection?", "Can I get the difference back if the price drops?", "It went on sale the day after I ordered", "Do you match your own lower prices?", "How long is price protection?"],
        "We offer 7-day price protection: if the same item gets cheaper within 7 days of delivery, claim the difference under My Orders.",
    ),
    "gift_wrap": (
        ["可以礼品包装吗?", "送人的能帮忙包装吗?", "有贺卡服务吗?", "礼品包装要钱吗?", "能不能不放价格单?", "想送朋友，怎么选包装?"],
        "结算时勾选「礼品包装」即可，每单加收10元，包含贺卡，包裹内不放价格单。",
        ["Do you offer gift wrapping?", "Can you wrap it as a present?", "Can I add a greeting card?", "How much is gift wrap?", "Can you leave the price slip out?", "I am sending a gift, what are the wrapping options?"],
        "Tick 'Gift wrap' at checkout: it costs ¥10 per order, includes a greeting card, and no price slip goes in the parcel.",
    ),
}


def main() -> None:
    rows = []
    for zh_questions, zh_answer, en_questions, en_answer in TOPICS.values():
        rows += [(q, zh_answer) for q in zh_questions] + [(q, en_answer) for q in en_questions]
    random.Random(7).shuffle(rows)
    lines = [
        json.dumps({"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]}, ensure_ascii=False)
        for q, a in rows
    ]
    out = Path(__file__).with_name("qa.jsonl")
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(lines)} conversations written to {out}")


if __name__ == "__main__":
    main()
