"""The complaint taxonomy of SPEC §4 and the vocabulary the classifier reads it with.

Everything here is data: the category → subcategory table, the default department of each
subcategory, and the term lists (Chinese and English) with a weight per subcategory, the cue lists
that decide a tier, the intent cues (praise, suggestion, inquiry, problem) and the clause markers
(past, resolved, hypothetical, focus, additive, background, speculation). The lists were written
from the taxonomy and property-management practice, as families of words; the development set was
read while writing them, so some of its wording is in them (docs/CLASSIFIER.md gives the blind figures).

Conventions:
- Chinese lists are space-separated strings of simplified terms; English lists are ``|``-separated
  phrases. The classifier normalises both the same way (lowercase, no apostrophes, a light stemmer,
  doubled letters collapsed), so ``rubbish``/``rubish`` and ``messages``/``mesage`` meet.
- A term may appear under several subcategories, cues and intents; listed twice under the same one,
  the higher weight counts. A key that is a category (``fees``, ``facility``) holds evidence for the
  whole category. Matching is longest-first, so a longer term (``停车费``, ``fire lane``,
  ``打不着火``) hides the shorter ones inside it.
- Weights are evidence, roughly: 3.5 names the subject, 2 to 3 strongly suggests it, ≤ 1.5 is context
  (a place, a generic word), 0.5 a location that should not decide alone (``电梯里``, ``in the lift``).
"""

from __future__ import annotations

CATEGORIES: dict[str, tuple[str, ...]] = {
    "facility": ("elevator", "water", "electrical", "fire_safety", "access_control", "public_facility"),
    "service": ("cleaning", "security", "customer_service", "landscaping"),
    "fees": ("property_fee", "shared_utilities", "parking_fee", "deposit"),
    "community": ("parking", "noise", "pets", "renovation", "neighbour", "encroachment"),
    "other": ("suggestion", "inquiry", "praise"),
}
TIERS: tuple[str, ...] = ("emergency", "important", "complex", "general")
DEPARTMENTS: tuple[str, ...] = ("engineering", "security", "environment", "finance", "customer_service", "management")

CATEGORY_DEPARTMENT: dict[str, str] = {
    "facility": "engineering",
    "service": "customer_service",
    "fees": "finance",
    "community": "customer_service",
    "other": "customer_service",
}
SUBCATEGORY_DEPARTMENT: dict[tuple[str, str], str] = {
    ("service", "cleaning"): "environment",
    ("service", "landscaping"): "environment",
    ("service", "security"): "security",
    ("service", "customer_service"): "customer_service",
    ("community", "parking"): "security",
    ("community", "encroachment"): "security",
}
SUBCATEGORY_CATEGORY: dict[str, str] = {sub: category for category, subs in CATEGORIES.items() for sub in subs}

# --- Topic terms: subcategory -> {weight: terms} ---------------------------------------------------

ZH_TOPIC: dict[str, tuple[tuple[float, str], ...]] = {
    "facility": ((1.0, "坏了 断了 破了 松了 裂了 损坏 脱落 生锈 失灵 故障 不能用 不好用 失修 报修 异响"),),
    "elevator": (
        (3.5, "电梯灯 电梯里的灯 电梯内的灯 电梯照明 轿厢灯 电梯 轿厢 直梯 升降梯 扶梯 客梯 货梯 电梯门 电梯按钮 电梯按键 困梯"),
        (3.0, "电梯门夹 夹人 下坠 溜梯 冲顶 蹲底 电梯年检 电梯异响"),
        (2.0, "维保 电梯公司 平层 层门 厅门 梯控 广告屏 爬楼 困人 被困 关在里面 困在"),
        (1.5, "警铃 年检 按钮 按键 楼层键"),
        (1.0, "卡在"),
        (0.5, "电梯里 电梯内 电梯口 电梯间 电梯厅 坐电梯 在电梯"),
    ),
    "water": (
        (
            3.5,
            "下水管 排污管 二次供水 进水 没热水 热水管 冷水管 漏水 渗水 爆管 水管 下水道 地漏 给水 排水 供水 自来水 水压 停水 没水 "
            "没有水 断水 水龙头 马桶 管道 疏通",
        ),
        (
            3.0,
            "漫到 漫进 淹没 淹到 积水严重 返水 冒水 积水 堵塞 滴水 水表 水阀 总阀 阀门 化粪池 污水 雨水管 落水管 反水 水漫 水淹 "
            "泡水 空调漏水 水箱 水泵",
        ),
        (2.0, "漏了 水黄 发黄 铁锈味 水垢 雨水 堵了 下水 冲不下去 返臭 返味 水质 黄水 洗手池 水池 水槽 管子 接口 水渍 淹了 被淹"),
        (1.0, "热水器 天花板 打不着火 洗澡"),
    ),
    "electrical": (
        (3.5, "停电 没电 没有电 断电 跳闸 路灯 声控灯 楼道灯 灯泡 灯管 电路 电线 电工 配电箱 电箱 照明 灯不亮 大面积停电 全黑"),
        (3.0, "火花 冒火花 打火花 电火花 短路 线路 电缆 开关 电表 漏电 插座 电闸 来电 供电 电压 配电房 变压器 感应灯 照明灯"),
        (2.5, "亮着 灯亮 长明灯 灯"),
        (1.5, "不亮 黑乎乎 黑灯瞎火 黑漆漆 闪烁"),
    ),
    "fire_safety": (
        (
            4.5,
            "天然气味 天然气味道 燃气味道 煤气味道 一股煤气 一股燃气 闻到煤气 闻到燃气 闻到天然气 着火 起火 失火 火灾 冒烟 浓烟 "
            "烟雾 冒火 明火 焦糊味 烧焦 烧焦味 煤气味 燃气味",
        ),
        (
            3.5,
            "消防 灭火器 消火栓 消防栓 烟感 喷淋 火警 煤气 燃气 天然气 焦味 应急灯 应急照明 安全出口 疏散 逃生 防火门 消防设施 "
            "消防器材 水带 火苗 烧焦的味道 应急灯不亮 应急照明灯 应急灯坏",
        ),
        (3.0, "消防门 报警器 火警报警"),
        (2.0, "火情 烟味 漏气 泄漏 爆炸 指示灯"),
        (0.5, "消防车"),
    ),
    "access_control": (
        (3.5, "门禁 门禁卡 道闸 人脸识别 刷脸 可视对讲 车牌识别 单元门 门卡 电子门 闸机 人行门 楼门 门禁系统"),
        (2.5, "消磁 门打不开 道闸杆 二维码开门 蓝牙开门 开门 刷卡 抬杆 栏杆机 门铃 对讲 刷不开"),
        (1.5, "识别 门锁 大门 进不去 开不了门 录入"),
        (1.0, "访客 打不开 车牌 关不上 常开 锁不上 合不上 关不严 没声音"),
        (0.5, "一直开着 敞开 单元门口 大门口 门口"),
    ),
    "public_facility": (
        (
            3.0,
            "避雷 避雷带 避雷针 外墙 瓷砖 墙砖 窨井 晾衣架 晾衣杆 扶手 楼梯扶手 路面塌陷 塌陷 人行道 玻璃 公共设施 长椅 座椅 滑梯 "
            "秋千 游乐设施 游乐区 游乐场 儿童乐园 健身器材 健身区 健身设施 漫步机 篮球架 篮球场 羽毛球场 网球场 乒乓球台 减速带 "
            "井盖 护栏 围栏 凉亭 廊架 信报箱 路面 地砖 台阶 跷跷板 沙坑 充电桩 车棚 自行车棚 雨棚 标识牌 指示牌 宣传栏 泳池 游泳池 "
            "步道 水景 喷泉",
        ),
        (2.0, "栏杆 围墙 遮阳棚 坑 道路 路牙"),
        (1.5, "楼梯 窗户 地面 屋顶 快递柜 铁皮 木条 设施"),
        (1.0, "楼顶 墙皮"),
    ),
    "cleaning": (
        (3.5, "保洁 垃圾 清运 垃圾桶 垃圾站 垃圾房 垃圾箱 卫生 打扫 清扫 清洁 厨余 消杀"),
        (
            2.5,
            "灰尘 积灰 全是灰 落灰 没拖 没扫 没人扫 扫一下 拖一下 倒垃圾 乱扔垃圾 小广告 牛皮癣 除四害 白蚁 清理 拖地 拖完 拖得 脏 "
            "脏乱 蟑螂 老鼠 灭蚊 痰 痰渍 脚印 污渍 呕吐 吐了 溢出 垃圾袋",
        ),
        (1.5, "灰 树叶 臭 臭味 异味 苍蝇 蚊蝇 警示牌 落叶 烟头 装修垃圾 味道"),
        (1.0, "蚊子"),
        (0.5, "楼道"),
    ),
    "security": (
        (3.5, "保安 安保 巡逻 门岗 岗亭 门卫 秩序维护 秩序员 值班室"),
        (2.5, "巡查 可疑 可疑人员 盘查 放行 夜班保安 偷 被盗 小偷 盗窃 失窃 监控 值班"),
        (1.5, "夜班 推销 外卖员 快递员 进出 丢了 玩手机 外来人员 陌生人 登记"),
        (1.0, "上班时间 值班时间 摄像头 打架 睡觉"),
    ),
    "customer_service": (
        (3.5, "客服 前台 管家 客服中心 服务中心 物业中心 物业办公室"),
        (
            2.5,
            "没消息 物业电话 不作为 拖延 服务差 没回音 爱答不理 不理人 回复 不回复 回电 打不通 没人接 推诿 踢皮球 敷衍 错字 "
            "服务态度 办事效率",
        ),
        (2.0, "12345 市长热线 才来人 没人来"),
        (1.5, "答应 承诺 消息 工作人员 物业人员 物业经理 经理 回访 态度 报修单 工单 查不到 写错 通知 打电话 投诉电话"),
        (1.0, "电话"),
    ),
    "landscaping": (
        (3.5, "绿化 修剪 园林 绿化带 草坪 树枝 枯枝 浇水 杂草 除草 剪草 绿篱 苗木 灌木 花草 绿植 打药 喷药 农药"),
        (3.0, "绿化工 割草机 树倒 刮倒 树根"),
        (2.5, "树 枯死 枯萎 虫害 花坛 树木 倒伏"),
        (1.5, "绿地 花园"),
        (1.0, "台风 草 花 落叶"),
    ),
    "property_fee": (
        (4.0, "物业费 物业管理费 物业服务费"),
        (3.0, "滞纳金"),
        (2.0, "管理费 发票 欠费 催缴 催费 每平米 税点"),
        (1.5, "贵 空置 平米"),
        (0.5, "交付"),
    ),
    "fees": (
        (3.0, "收了两次 扣了两次 交了两次 重复交 乱收费 重复扣费 重复收费"),
        (2.0, "再交 又要交 还要交 违约金 价格 多收 扣费 退费 涨价 收费标准 要钱 这钱 交钱 不交 催"),
        (1.5, "收费 缴费 交费 费用 账单"),
        (1.0, "财务 财务部"),
    ),
    "shared_utilities": (
        (4.5, "公共能耗 能耗费 公共水电费 公区能耗 公共用电 公共用水"),
        (4.0, "公摊 分摊 公摊水电 公摊水费 公摊电费 公共水电 公区水电 水电分摊"),
        (2.5, "总表 水电费"),
        (2.0, "电费 水费 能耗"),
    ),
    "parking_fee": (
        (4.0, "停车费 临停费 停车收费 车位管理费 车位费 月卡费 月租费"),
        (3.0, "临停 月卡"),
        (2.0, "月租"),
        (1.5, "车位"),
        (1.0, "管理费 停车 停车场"),
    ),
    "deposit": (
        (5.0, "卡押金 门禁卡押金 钥匙押金"),
        (4.0, "押金 保证金 装修押金 装修保证金"),
        (2.0, "不退 没退 还没退 扣除 扣款 扣了"),
        (1.5, "退还 退款 退钱 能退 退回 退给我"),
    ),
    "parking": (
        (4.0, "占用车位 占着车位 占用停车位"),
        (3.5, "乱停 乱停车 乱停乱放 挪车 占车位 车位被 违停 停满 僵尸车 违规停车 停在"),
        (3.0, "没牌 无牌 无牌车 占道停车 停车位 乱停的车"),
        (2.5, "车停 私家车 外来车辆"),
        (1.5, "车位 停车 停放 电动车 消防通道 被占"),
        (1.0, "摩托车 没动过 车辆 堵住 自行车 车库 地库 停车场"),
        (0.5, "车"),
    ),
    "noise": (
        (3.5, "噪音 噪声 扰民 太吵 吵死 吵闹 吵到 吵得"),
        (3.0, "拖椅子 脚步声 吵醒 乐器 练琴 麻将声 蹦迪 施工噪音 放音乐"),
        (
            2.5,
            "咚咚 砰砰 哐哐 嗡嗡 轰轰 拍球 蹦跳 跺脚 敲打 音乐 打麻将 拖拽 砸东西 声音大 声音太大 声音特别大 音响 广场舞 鬼哭狼嚎 "
            "喧哗 电钻声 装修声 震天响 架子鼓 大喇叭",
        ),
        (2.0, "吵 钢琴 唱歌 轰鸣 高跟鞋"),
        (1.5, "睡不着 跑跳 卸货 喇叭 震动 划拳 电钻"),
        (1.0, "响 敲 声音 装修 半夜"),
    ),
    "pets": (
        (3.5, "宠物 狗 猫 遛狗 狗屎 狗粪 猫屎 狗叫 犬 养狗 养猫 牵绳 拴绳 狗绳 狗主人"),
        (3.0, "金毛 泰迪 哈士奇 柯基 比熊 拉布拉多 柴犬 边牧 大型犬 烈性犬 流浪狗 流浪猫"),
        (2.5, "养鸽子 鸽子 养鸡"),
        (2.0, "咬伤 被咬 咬了 咬人"),
        (1.5, "拉屎 咬"),
    ),
    "renovation": (
        (3.5, "承重 承重柱 承重梁 剪力墙 结构墙 拆梁 违规装修 承重墙 装修违规 封阳台 封出去"),
        (2.5, "防水层 打墙 装修队 施工队 周末施工 中午施工 装修时间 拆墙 砸墙 报备 施工人员 外立面 装修手续 违章"),
        (
            3.0,
            "周末一大早 一大早就 大清早就 周末装修 节假日装修 中午装修 午休时间装修 晚上装修 装修到半夜 一大早装修 休息日施工 节假日施工",
        ),
        (2.0, "砸掉 拆掉 打掉 拆了 砸了 施工 开工 出入证 违规 改水电 违章搭建"),
        (1.5, "凿 改管道 装修 干活 规定 打孔 改造 允许吗 装修垃圾"),
        (1.0, "墙 工人"),
    ),
    "neighbour": (
        (4.0, "高空抛物"),
        (3.5, "往下泼 往下倒 往楼下倒 往楼下泼 往下吐 泼下来 扔下来 往下扔 从楼上扔 从高处扔 高空坠物"),
        (3.0, "邻居 邻里 纠纷 争执 吵架 调解 评评理 扔下 抛下"),
        (2.0, "骂人 砸门 空调外机 抽烟 赔偿 矛盾"),
        (1.5, "偷看 监视 隔壁 对门 协调 协商 摄像头 外机 烟飘 花盆 邻里关系"),
        (1.0, "出面 高处 晾衣"),
        (0.5, "楼上 上门 住户"),
    ),
    "encroachment": (
        (
            3.5,
            "往外扩 外扩 扩出去 圈占 多占 占用 占道 堆物 堆放 堆满 杂物 私自搭建 圈地 种菜 私占 占为己有 楼道堆 放楼道 放在楼道 "
            "侵占 违建 违章搭建",
        ),
        (3.0, "圈起来 围起来 楼道里放 楼道放 门口放 放在门口 霸占 门口堆 堆着"),
        (3.0, "公共走廊 放在走廊 走廊里放 走廊上放 挡住了路 挡路 挡住通道 堵住通道"),
        (2.5, "占了 种了 种植 私自种 搭建 鞋柜 自己用 纸箱 旧家具 废品"),
        (2.0, "衣柜 柜子 家具 占着"),
        (1.5, "空地 公共用地 楼道里 私自 公共绿地 公共场地 过道 楼梯间 棚子 天台 公共区域 公共空间 被占 消防通道"),
        (1.0, "摩托车 楼道 自行车"),
    ),
}

EN_TOPIC: dict[str, tuple[tuple[float, str], ...]] = {
    "facility": ((1.0, "broken|broke|not working|out of order|faulty|damaged|cracked|loose|rusty|stopped working"),),
    "elevator": (
        (3.5, "lift|elevator|escalator|lift car|lift door|elevator door|lift button|elevator button"),
        (3.0, "stuck between floors|stuck in the lift|stuck in the elevator"),
        (2.0, "lift alarm|lift shaking|lift jerking|between floors|lift company|out of service"),
        (1.5, "trapped"),
        (0.5, "in the lift|in the elevator|lift lobby"),
    ),
    "water": (
        (
            3.5,
            "leak|leaking|leaky|pipe|burst pipe|water pipe|drain|drainage|sewage|sewer|toilet|tap|faucet|water pressure|no water|"
            "water supply|water cut|plumbing|flooding|flooded|flood|blocked drain|clogged|seeping",
        ),
        (3.0, "no hot water|brown water|rusty water|dirty water|low pressure|backed up"),
        (2.5, "plumber|sink|basin|aircon leak|air con leak|ac leak|pouring"),
        (2.0, "hot water|overflow|dripping|damp|shower|water"),
        (1.5, "drip|water heater"),
        (1.0, "ceiling"),
    ),
    "electrical": (
        (
            3.5,
            "electricity went off|power went off|power has gone|power went out|electricity is off|electricity cut|power failure|"
            "power cut|power outage|power is out|power out|no power|blackout|no electricity|light|bulb|street light|streetlight|"
            "lamp|corridor light|stairwell light|wiring|socket|circuit breaker|breaker|tripped|electrician|fuse|lighting",
        ),
        (3.0, "sparks|sparking|short circuit|pitch black|switch|power socket"),
        (2.0, "flickering|power"),
        (1.5, "electricity|dark"),
    ),
    "fire_safety": (
        (4.5, "fire|on fire|smoke|burning|smell of burning|gas leak|gas smell|smell of gas"),
        (
            3.5,
            "smells of gas|smells like gas|fire extinguisher|extinguisher|fire hydrant|hydrant|fire hose|fire alarm|smoke alarm|"
            "smoke detector|sprinkler|fire exit|emergency exit|exit sign|emergency light|emergency lighting|fire door|fire escape|"
            "fire safety|fire equipment",
        ),
        (2.0, "gas|evacuation|fire brigade"),
        (1.0, "fire engine"),
    ),
    "access_control": (
        (
            3.5,
            "access card|key card|keycard|fob|key fob|intercom|entry system|access control|face recognition|facial recognition|"
            "plate recognition|number plate recognition|turnstile|card reader|pedestrian gate|entrance door|main entrance|"
            "door entry|boom gate|car park barrier",
        ),
        (
            2.5,
            "lobby door|building door|unit door|block door|door code|front door of the building|barrier|buzzer|reprogram|reprogrammed",
        ),
        (2.0, "wont lift|doesnt lift|car park exit|car park entrance|doorbell"),
        (
            1.5,
            "wont open|doesnt open|visitor pass|doesnt lock|wont lock|doesnt close|wont close|stays open|left open|propped open|"
            "entrance|lock",
        ),
        (1.0, "gate|door"),
    ),
    "public_facility": (
        (
            3.0,
            "bench|swing|playground|play area|kids area|climbing frame|seesaw|sandpit|fitness equipment|gym equipment|"
            "exercise equipment|outdoor gym|basketball hoop|basketball court|tennis court|badminton court|speed bump|manhole|"
            "manhole cover|railing|handrail|pavement|paving|footpath|pavilion|bike shed|bicycle shed|mailbox|letterbox|noticeboard|"
            "charging point|charging station|ev charger|bike rack|swimming pool",
        ),
        (2.5, "fence"),
        (2.0, "slide|fountain|court"),
        (1.0, "path|steps|chain|net|parcel locker"),
    ),
    "cleaning": (
        (3.5, "rubbish|garbage|trash|bin|litter|refuse|cleaner|cleaning|dirty|filthy|vomit|puke|cockroach|pest|rats|mice|bin room"),
        (3.0, "vacuumed|vacuum|hoover|hoovered"),
        (
            2.5,
            "dust|dusty|graffiti|mopping|not been cleaned|never cleaned|mess|messy|sweep|swept|mop|mopped|stain|spit|wet floor|"
            "wet floor sign|stink|smelly",
        ),
        (2.0, "emptied|rubbish room"),
        (1.5, "pee|peeing|urine|flyers|flies|clean"),
        (1.0, "carpet|smell|collected"),
    ),
    "security": (
        (
            3.5,
            "security guard|guard|security|patrol|guard house|guardhouse|gatehouse|theft|stolen|thief|burglary|break in|broke into|cctv",
        ),
        (3.0, "sleeping on duty|suspicious|intruder|night guard|security team"),
        (1.5, "asleep|night shift"),
        (1.0, "camera|visitor"),
    ),
    "customer_service": (
        (3.5, "customer service|receptionist|reception|front desk|management office|property office|call centre|call center"),
        (
            2.5,
            "no response|unanswered|nobody called back|no one called back|reply|replied|call back|calls back|called back|hotline|"
            "ignored|no one answers|nobody answers|answer the phone",
        ),
        (1.5, "promised|respond|response|message|staff|attitude|housekeeper|notice"),
        (1.0, "office|phone|called|app|email|manager|rude"),
    ),
    "landscaping": (
        (
            3.5,
            "gardener|gardening|landscaping|pesticide|lawn|mow|mowing|mowed|hedge|tree|branch|prune|pruning|weed|weeding|shrub|"
            "greenery|flowerbed|green belt|dead plant",
        ),
        (3.0, "cut the grass|cutting the grass|knee high"),
        (2.5, "spraying|sprayed|flower|plant|trim|trimming|watering"),
        (1.5, "grass"),
    ),
    "property_fee": (
        (4.0, "property fee|management fee|service charge|property management fee|maintenance fee"),
        (2.0, "sqm|square metre|square meter|invoice|arrears|late fee"),
        (1.0, "receipt"),
    ),
    "fees": (
        (3.0, "overcharged|charged twice|double charged"),
        (2.5, "billed|billed for|charged for|being charged"),
        (1.5, "charge|charged|fee|bill|billing|payment|price"),
    ),
    "shared_utilities": (
        (
            4.0,
            "shared electricity|shared water|shared utilities|communal electricity|communal water|shared charge|public area electricity",
        ),
        (3.0, "water usage|electricity usage|usage in the common"),
        (2.5, "common area|meter reading|meter|utility|utilities|apportioned"),
    ),
    "parking_fee": (
        (
            4.0,
            "charged for parking|pay for parking|paying for parking|parking charges|parking bill|parking fee|parking charge|"
            "temporary parking|monthly pass|parking pass|car park fee|parking space fee|parking rent",
        ),
        (2.0, "parking permit|parking ticket"),
    ),
    "deposit": (
        (4.0, "deposit|renovation deposit|key deposit|card deposit"),
        (2.0, "refund|refunded|deducted|deduction"),
    ),
    "parking": (
        (
            3.5,
            "parked|double parked|fire lane|parking space|parking spot|my space|my spot|garage ramp|tow|towed|move their car|move his car",
        ),
        (3.0, "parking in front of|parked in front of|parks in front of"),
        (2.0, "parking|scooter|vehicle|suv|truck|van"),
        (1.5, "park|car"),
        (1.0, "car park|carpark|underground car park|garage|ramp|ebike|e bike|parking permit"),
        (0.5, "bike|plate"),
    ),
    "noise": (
        (4.0, "renovation noise|construction noise"),
        (3.5, "noise|noisy|loud|blasting|karaoke|ktv|square dancing|stomping|footsteps"),
        (2.5, "music|drumming|drum|banging|party|shouting"),
        (2.0, "slamming|stomping around"),
        (1.5, "bar|dancing"),
        (1.0, "drilling|barking"),
    ),
    "pets": (
        (3.5, "dog|cat|pet|puppy|kitten|barking|bark|leash|dog poo|dog mess|dog poop|poop|poo"),
        (1.5, "bitten|bite"),
        (1.0, "peeing"),
    ),
    "renovation": (
        (3.5, "renovation|renovating|renovate|load bearing wall|load bearing|against the rules|structural wall"),
        (2.5, "construction|builders|unauthorised|unauthorized|permit|demolish|knock down|knocked down|enclosed balcony|workers"),
        (
            1.5,
            "not allowed|on sunday|on sundays|at weekends|on weekends|drilling|rules|illegal|extension|lunch break|working hours|wall",
        ),
    ),
    "neighbour": (
        (
            3.0,
            "neighbour|neighbor|mediate|mediation|dispute|out of a window|out of the window|from a window|thrown from|from height|"
            "next door|from an upper floor|dropped from|falling object",
        ),
        (2.0, "threw|thrown|throwing|yelled|argue|argument|compensation|smoking|cigarette|laundry|threatened"),
        (1.5, "banging on the ceiling|banging on the floor"),
        (1.0, "from upstairs|from above|camera|football"),
        (0.5, "upstairs|flat above|balcony|window"),
    ),
    "encroachment": (
        (
            3.5,
            "boxes|clutter|junk|shoe rack|shoe cabinet|fenced off|fence off|grow vegetables|vegetable|allotment|encroach|"
            "encroaching|taken over|public space|blocked by|blocking the corridor",
        ),
        (3.0, "old furniture|furniture|dumping|dumped"),
        (2.5, "storing|stored|belongings|occupying|occupied|shed"),
        (1.5, "box|rooftop|roof terrace|common area|corridor|hallway"),
        (1.0, "landing|bicycle|stuff"),
    ),
}

# --- Intent cues: intent -> {weight: terms} --------------------------------------------------------
# praise / suggestion / inquiry say what the resident wants; "problem" is the evidence of a complaint
# (a fault, a dispute, a request to fix something), which they must outweigh.

ZH_INTENT: dict[str, tuple[tuple[float, str], ...]] = {
    "praise": (
        (5.0, "表扬 锦旗"),
        (4.0, "点个赞 赞一个 赞一下 点赞一下 点赞 永远的神 好样的 非常感谢 特别感谢 十分感谢"),
        (3.0, "感谢 辛苦了 好评 很满意 非常满意 服务很好 态度很好 服务态度很好 人特别好 人很好 给力 负责任 很专业 非常专业"),
        (2.0, "随叫随到 很负责 尽职尽责 满意 热心 贴心 干干净净 修得快 很及时 很快就 帮忙"),
        (1.0, "辛苦 耐心 帮我 很干净 谢谢你们"),
        (0.5, "谢谢"),
    ),
    "suggestion": (
        (4.0, "建议 提议 可以考虑"),
        (3.0, "能不能加 能不能装 能不能增加 能不能多 能加个 能装个 加装 增设 多装 多设 添置 加几个 装几个 多放几个 加一个 装一个"),
        (2.5, "加个 装个"),
        (2.0, "希望 最好能 如果能 就好了 增加 方便大家 提前通知"),
        (1.5, "能不能 每月公布 定期公布 定期公示 公布一下"),
        (1.0, "以后 考虑 提前"),
    ),
    "inquiry": (
        (4.0, "咨询 想咨询"),
        (3.0, "请问 想问 打听 怎么办理 如何办理 去哪办 哪里办 在哪办 什么手续 要带什么 有没有优惠 营业时间 办公时间 想了解"),
        (3.0, "几点能来水 几点来水 什么时候来水 什么时候有水 几点能来电 几点来电 什么时候来电 什么时候恢复 几点恢复 何时恢复 多久恢复"),
        (
            2.5,
            "价格多少 多少一个月 可以租 出租吗 多久可以 什么时候可以 需要多久 多长时间 停电吗 停水吗 停气吗 会停 要停 问一下 需要办 "
            "需要办理",
        ),
        (2.0, "要登记 需要登记 几点到几点 交多少 可以线上 线上交 怎么交 怎么取 是否需要 上班时间 怎么开通"),
        (1.5, "有没有 多久 多少钱 是不是要 用不用"),
        (1.0, "怎么 如何 打扰一下 什么时候 取件码"),
        (0.5, "对不起"),
    ),
    "problem": (
        (3.0, "凭什么 凭啥 有异议 不认可 重复扣 多收 乱收费"),
        (2.5, "不合理 没人管 谁来管 管管 有没有人管 怎么回事 搞不定 不交 没人应"),
        (
            2.0,
            "还没退 没退 不退 踢皮球 推诿 坏了 损坏 没反应 不能用 用不了 打不通 投诉 派人 修一下 来修 处理一下 快来 快派 太差 很差 "
            "受不了 到现在 退钱 堵了 卡住 溢出 违规 违章 危险 隐患 不满 起不来 过不去 出不去 进不去 一个人都没有",
        ),
        (
            1.5,
            "坏 破了 断了 松了 不亮 无法 反映 报修 维修 修理 处理 尽快 赶紧 为什么 为啥 重复 多了 涨 要求 没用 不及时 未及时 太慢 "
            "不开门 看不清 听不见 推不动 不敢 吓哭 没见人 不清 允许吗 违规吗 异议 什么时候能修好 玩手机 睡觉 不在岗 脱岗 离岗",
        ),
        (1.0, "麻烦 解决 马上 差 慢 臭 吵 乱 影响 担心 到底 满了 过期 不了 没人 过期了 不管 闪 漏 堵"),
    ),
}

EN_INTENT: dict[str, tuple[tuple[float, str], ...]] = {
    "praise": (
        (4.0, "big thanks|many thanks|kudos|praise|compliment|yyds|thank you so much|great job|well done"),
        (3.0, "thanks to|thank you to|grateful|excellent service|really helpful|so helpful|please thank"),
        (
            2.0,
            "lovely|wonderful|brilliant|polite|courteous|always smiling|just want to say|kind|appreciate|helpful|excellent|amazing|"
            "fantastic|spotless|friendly",
        ),
        (0.5, "thank|thank you"),
    ),
    "suggestion": (
        (4.0, "suggestion|suggest|proposal|propose"),
        (
            3.0,
            "could we get|could we have|can we get|can we have|would be nice|would be great|please consider|could you put|"
            "could you add|could you install|it would help",
        ),
        (2.0, "would be good|how about|install more|add more|recommend|need somewhere"),
        (1.0, "add a|put a|consider"),
    ),
    "inquiry": (
        (4.0, "enquiry|inquiry"),
        (
            3.0,
            "can you tell me|when does|when do|opening times|what time|how do i|how can i|where can i|where do i|do i need|"
            "opening hours|office hours|could you tell me|what time does|what time do|how much is",
        ),
        (2.0, "what are|how to|who do i|please advise|wondering|is it possible to"),
        (1.5, "what is|is there|when is|question"),
        (1.0, "when will|how much|register"),
        (0.5, "can i"),
    ),
    "problem": (
        (3.0, "overcharged|charged twice|double charged"),
        (
            2.0,
            "broken|broken down|broke down|not working|doesnt work|dont work|stopped working|out of order|complain|complaint|"
            "please fix|please send|asap|dispute|disagree|nobody|no one|dangerous|unsafe|not safe|higher than|way higher|"
            "please look into|please do something|sort it out|can someone|could someone|hasnt been|havent been|deducted|rude|dirty",
        ),
        (
            1.5,
            "wont|refund|why is|why are|why was|why do|why does|even though|missing|stuck|blocked|bent|flickering|hasnt|havent|"
            "still|went off|is out|go missing|going missing|loud|urgent|twice|charged|fix|send help|help",
        ),
        (1.0, "doesnt|cant|cannot|although|leak|smell|gone|please"),
    ),
}

# --- Tier cues: cue -> terms ----------------------------------------------------------------------
# emergency and injury → emergency anywhere; stuck → emergency for a lift; burst → emergency for water;
# outage ("went off", 水停了) → emergency for water and electrical;
# persistence → important (not for fees: a fee dispute stays complex); safety and thrown → important;
# open_entrance → important for access control; load_bearing → important for renovation;
# mediation → complex for community complaints (a neighbour dispute is complex without one).

ZH_CUES: dict[str, str] = {
    "emergency": (
        "困人 被困 关在里面 困在 救命 着火 起火 失火 火灾 冒烟 浓烟 烟雾 冒火 明火 焦糊味 焦味 烧焦 烧焦味 烧焦的味道 煤气味 "
        "燃气味 漏气 泄漏 爆炸 天然气味 天然气味道 燃气味道 煤气味道 一股煤气 一股燃气 闻到煤气 闻到燃气 闻到天然气 爆管 爆裂 "
        "进水 漫到 漫进 淹没 淹到 积水严重 下坠 溜梯 冲顶 蹲底 破裂 淹了 被淹 水漫 漫水 倒灌 停水 断水 没水 没有水 停电 断电 没电 "
        "没有电 全黑 大面积停电 火苗 困梯"
    ),
    "injury": (
        "受伤 摔伤 划伤 烫伤 砸伤 咬伤 被咬 咬了 流血 出血 血流 骨折 昏迷 晕倒 摔倒 滑倒 跌倒 救护车 打120 叫120 打119 大口子 "
        "触电 头破 伤到 磕破 夹伤 擦伤 扭伤 碰伤 磕伤 淤青 划破 割破 割伤 扎伤 刺伤 戳伤 划了个口子 划了道口子 破皮 划开了"
    ),
    "stuck": "卡在",
    "burst": "爆了",
    "outage": "水停了 电停了 断了电 断了水",
    "persistence": (
        "持续 长期 多次 反复 屡次 好几次 几次了 三番五次 一再 老是 总是 经常 天天 每天 每晚 每天晚上 每个周末 连续 又坏了 又坏 "
        "又停了 又漏 又堵 每次都 每回都 一次又一次 屡屡"
    ),
    "safety": (
        "安全隐患 隐患 危险 摇摇欲坠 随时会掉 随时可能 消防通道 漏电 不安全 火花 冒火花 打火花 电火花 短路 塌陷 路面塌陷 外墙脱落 "
        "瓷砖脱落 容易夹 容易绊 容易摔 容易受伤 容易伤 会伤到 会砸到 可能伤 可能会砸"
    ),
    "thrown": "高空抛物 扔下来 扔下 抛下 往下扔 从楼上扔 从高处扔 高空坠物 坠物 抛物 往下泼 往下倒 往楼下倒 往楼下泼 往下吐 泼下来",
    "open_entrance": (
        "关不上 常开 锁不上 合不上 关不严 锁坏 陌生人 外来人员 随便进 随意进出 随便进出 无需刷卡 不用刷卡 谁都能进 一直开着 敞开 "
        "都能进 能进来 什么人都能"
    ),
    "load_bearing": "承重墙 承重 承重柱 承重梁 剪力墙 结构墙 拆梁",
    "mediation": "调解 评评理 协调 出面 纠纷 争执 协商 吵架 骂人 矛盾",
}

EN_CUES: dict[str, str] = {
    "emergency": (
        "smell of burning|burning smell|electricity went off|power went off|power has gone|power went out|electricity is off|"
        "electricity cut|power failure|trapped|stuck between floors|stuck in the lift|stuck in the elevator|fire|on fire|smoke|"
        "burning|gas leak|gas smell|smell of gas|smells of gas|smells like gas|flooding|flooded|flood|pouring|no water|water cut|"
        "power cut|power outage|power is out|power out|no power|blackout|no electricity|emergency|fire brigade"
    ),
    "injury": (
        "injured|injury|hurt|bleeding|blood|bitten|ambulance|unconscious|collapsed|slipped and fell|fell down|broken leg|"
        "broken arm|electric shock|bruised|bruise|bruising|sprained|swollen|scratched|got caught|is cut|was cut"
    ),
    "stuck": "stuck",
    "burst": "burst|burst pipe",
    "outage": "went off|gone off|cut off|been cut|was cut",
    "persistence": (
        "every day|every night|every weekend|every morning|every evening|repeatedly|again and again|over and over|constantly|"
        "continually|persistently|all the time|yet again|once again"
    ),
    "safety": (
        "could fall|might fall|could get hurt|someone could|could hurt|could injure|trip hazard|tripping hazard|about to fall|"
        "dangerous|unsafe|not safe|hazard|hazardous|safety risk|fire lane|sparks|sparking|short circuit"
    ),
    "thrown": (
        "threw|thrown|throwing|out of a window|out of the window|from a window|thrown from|from height|from an upper floor|"
        "dropped from|falling object"
    ),
    "open_entrance": (
        "wont close|doesnt close|wont lock|doesnt lock|not locking|left open|stays open|propped open|anyone can|stranger|wander in"
    ),
    "load_bearing": "load bearing|load bearing wall|structural wall|supporting wall|bearing wall",
    "mediation": "mediate|mediation|dispute|disagree|argue|argument|yelled|intervene",
}

# Durations and counts that make a nuisance long-running (regular expressions on the normalised text).
ZH_PERSISTENCE_PATTERNS: tuple[str, ...] = (
    r"(?:[一两二三四五六七八九十几半数]|好几|\d+)个多?月",
    r"(?:[两二三四五六七八九十几数]|好几|\d+)个多?(?:星期|礼拜)",
    r"(?:[两二三四五六七八九十几数]|好几|\d+)周(?:了|多|以上)",
    r"(?:[一两二三四五几]|好几|\d+)年(?:了|多|以上)",
    r"半年",
    r"第[三四五六七八九十\d]次",
    r"(?:[三四五六七八九十几]|好几|[3-9]|\d{2,})次",
)
EN_PERSISTENCE_PATTERNS: tuple[str, ...] = (
    r"\bfor (?:over |more than |about |almost |nearly |the past |the last )?(?:a|one|two|three|four|five|six|several|many|\d+) "
    r"(?:weeks?|months?|years?)\b",
    r"\b(?:for|in) (?:weeks|months|years|ages)\b",
    r"\b(?:\d+|two|three|four|five|several|many|multiple|countless|numerous) times\b",
    r"\b(?:over|more than) a (?:month|year)\b",
    r"\b(?:a|one|two|three|several) (?:months?|weeks?) now\b",
    r"\b(?:third|fourth|fifth) time\b",
)

# --- Negation -------------------------------------------------------------------------------------
# A cue before a term negates the next term (Chinese: within four characters; English: only across
# determiners, "not the lift"); a cue after a term negates it ("电梯没问题", "the lift is fine").
ZH_NEGATION_BEFORE: tuple[str, ...] = ("不是", "并非", "并不是", "而非", "而不是", "倒不是", "其实不是", "没有")
ZH_NEGATION_AFTER: tuple[str, ...] = (
    "没问题",
    "没有问题",
    "没坏",
    "没有坏",
    "没事",
    "是好的",
    "好好的",
    "正常",
    "没毛病",
    "无关",
    "没关系",
    "不是问题",
    "倒还好",
)
ZH_NEGATION_NOT_AFTER: tuple[str, ...] = ("是", "要", "可", "还", "岂")  # 是不是, 要不是, 可不是 are not negations
EN_NEGATION_BEFORE: tuple[str, ...] = (
    "not",
    "isnt",
    "wasnt",
    "arent",
    "its not",
    "nothing wrong with",
    "no problem with",
    "no isue with",
    "not caused by",
    "not because of",
)
EN_NEGATION_AFTER: tuple[str, ...] = (
    "is fine",
    "is ok",
    "is okay",
    "works fine",
    "is working",
    "is working fine",
    "are fine",
    "seems fine",
    "was fine",
    "isnt the problem",
    "is not the problem",
    "is not broken",
    "isnt broken",
)
EN_DETERMINERS: frozenset[str] = frozenset({"the", "a", "an", "my", "our", "their", "his", "her", "this", "that", "with", "about", "any"})

# --- Clause markers -------------------------------------------------------------------------------
ZH_MARKERS: dict[str, tuple[str, ...]] = {
    "past": ("上次", "上回", "前几天", "前阵子", "之前那次", "之前"),
    "resolved": (
        "已经修好",
        "已修好",
        "修好了",
        "已修复",
        "修复了",
        "已经解决",
        "已解决",
        "解决了",
        "处理好了",
        "已处理",
        "弄好了",
        "搞定了",
    ),
    "hypothetical": (
        "万一",
        "如果",
        "要是",
        "假如",
        "一旦",
        "担心",
        "以防",
        "否则",
        "不然",
        "真着火",
        "真失火",
        "真出事",
        "以后",
        "将来",
        "下次",
        "希望",
        "明天",
        "后天",
        "下周",
        "计划",
        "预计",
        "是不是要",
    ),
    "focus": (
        "但是",
        "可是",
        "不过",
        "然而",
        "问题是",
        "主要是",
        "想反映的是",
        "要投诉的是",
        "投诉的是",
        "最重要的是",
        "关键是",
        "这次是",
        "这回是",
        "现在是",
        "先修",
    ),
    "additive": ("另外", "还有就是", "顺便", "此外", "再就是", "附带"),
    "background": ("平时", "平常", "本来", "原本", "一向"),
    "speculation": ("好像是", "可能是", "估计是", "似乎", "大概是", "也许"),
    "near_miss": ("差点", "差一点", "险些", "差些"),
    "rhetorical_end": ("吗", "吧", "么"),
}
# An inquiry needs a question: without one its cues count half ("上班时间玩手机" is no question).
ZH_QUESTION_ENDINGS: tuple[str, ...] = ("吗", "呢", "么", "嘛")
ZH_ASKING: tuple[str, ...] = (
    "请问",
    "咨询",
    "想问",
    "问一下",
    "问问",
    "打听",
    "想了解",
    "请教",
    "几点能",
    "几点来",
    "什么时候能",
    "什么时候来",
    "什么时候恢复",
    "多久能",
)
EN_QUESTION_OPENINGS: tuple[str, ...] = (
    "how",
    "what",
    "when",
    "where",
    "who",
    "which",
    "why",
    "is",
    "are",
    "do",
    "does",
    "can",
    "could",
    "will",
    "would",
    "should",
    "may",
)
EN_MARKERS: dict[str, tuple[str, ...]] = {
    "past": ("last time", "previously", "the other day", "earlier this year"),
    "resolved": (
        "was fixed",
        "were fixed",
        "been fixed",
        "got fixed",
        "already fixed",
        "is fixed",
        "was repaired",
        "been repaired",
        "was resolved",
        "been resolved",
        "was sorted",
        "been sorted",
    ),
    "hypothetical": ("if", "in case", "what if", "otherwise", "worried", "next time", "in future", "in the future", "hopefully", "would"),
    "focus": ("but", "however", "the problem is", "the main", "main problem", "main issue", "this time", "what i want"),
    "additive": ("also", "by the way", "as well", "btw", "another thing"),
    "background": ("usually", "normally", "generally"),
    "speculation": ("maybe", "probably", "might be", "looks like", "i think it"),
    "near_miss": ("almost", "nearly"),
}

# --- Normalisation --------------------------------------------------------------------------------
# Traditional → simplified for the characters complaint texts use (pairs: traditional then simplified):
# every traditional form (OpenCC's TSCharacters with Taiwan/Hong Kong variants) of a character in the
# vocabulary above, generated once and kept here so the classifier needs no conversion library.
TRADITIONAL_PAIRS = (
    "丟丢 並并 乾干 亂乱 佈布 佔占 併并 來来 侷局 係系 俬私 個个 們们 側侧 備备 傢家 傳传 傷伤 價价 儘尽 "
    "償偿 優优 兒儿 內内 兩两 凈净 別别 則则 剛刚 劃划 劉刘 動动 務务 區区 協协 卻却 卽即 厠厕 厲厉 叢丛 "
    "員员 問问 啟启 單单 嗎吗 嘔呕 嘩哗 噴喷 噸吨 噹当 嚇吓 嚮向 嚴严 囌苏 圍围 園园 團团 執执 報报 場场 "
    "塊块 塵尘 墊垫 墜坠 墰坛 墻墙 壇坛 壓压 壜坛 壞坏 夾夹 媽妈 孃娘 孫孙 實实 寫写 寬宽 寵宠 寶宝 將将 "
    "專专 對对 導导 屍尸 屢屡 層层 崗岗 師师 帶带 幫帮 幹干 幾几 庫库 廁厕 廂厢 廚厨 廢废 廣广 廳厅 張张 "
    "彆别 彎弯 彔录 後后 從从 復复 徹彻 惡恶 愛爱 態态 慣惯 慮虑 慾欲 憑凭 憤愤 應应 懶懒 懷怀 戲戏 戶户 "
    "拋抛 掃扫 掛挂 揀拣 揚扬 換换 損损 搖摇 搶抢 摺折 撐撑 撥拨 撲扑 撿捡 擁拥 擇择 擊击 擋挡 擔担 據据 "
    "擠挤 擬拟 擲掷 擴扩 擺摆 擾扰 攔拦 攜携 攝摄 攤摊 敎教 數数 斷断 於于 旂旗 昇升 時时 暈晕 曉晓 曏向 "
    "曬晒 會会 東东 枱台 査查 桿杆 條条 棄弃 棊棋 棟栋 業业 極极 榦干 構构 樁桩 樂乐 樑梁 樓楼 標标 樣样 "
    "樹树 機机 橫横 檢检 檯台 櫃柜 櫥橱 欄栏 權权 歡欢 歲岁 歷历 歸归 殘残 殭僵 殺杀 殼壳 氈毡 氣气 氫氢 "
    "汙污 決决 沒没 沖冲 況况 洩泄 涼凉 淚泪 淨净 淩凌 淺浅 減减 測测 湧涌 準准 溝沟 溫温 溼湿 滅灭 滯滞 "
    "滲渗 滷卤 滾滚 滿满 漁渔 漬渍 漲涨 潑泼 潔洁 潛潜 澀涩 澆浇 澤泽 澱淀 濃浓 濕湿 濟济 濱滨 濾滤 瀉泻 "
    "灑洒 灘滩 灣湾 災灾 為为 無无 煙烟 煩烦 熱热 燈灯 燉炖 燒烧 燙烫 營营 燭烛 爍烁 爐炉 爛烂 爭争 爲为 "
    "爺爷 牆墙 牠它 牽牵 犧牺 狀状 猶犹 獄狱 獎奖 獨独 獲获 現现 瑣琐 瑪玛 環环 璽玺 產产 甦苏 畝亩 畢毕 "
    "畫画 異异 當当 疊叠 療疗 癢痒 癬癣 發发 皺皱 盜盗 盞盏 盡尽 監监 盤盘 眞真 眾众 睏困 矇蒙 硃朱 確确 "
    "碼码 磚砖 礎础 礙碍 礦矿 禍祸 禦御 禮礼 稅税 種种 稱称 穀谷 積积 穩稳 窩窝 窮穷 竄窜 竊窃 競竞 筆笔 "
    "箇个 節节 範范 築筑 簡简 簽签 籃篮 籌筹 籠笼 籤签 籬篱 糞粪 糧粮 糾纠 紀纪 約约 紅红 紋纹 納纳 純纯 "
    "紗纱 紙纸 級级 紛纷 紮扎 細细 紹绍 終终 組组 絆绊 結结 絕绝 絡络 給给 統统 絲丝 綁绑 經经 綜综 綠绿 "
    "綫线 維维 網网 緊紧 緑绿 緒绪 線线 編编 緩缓 練练 緻致 縣县 縫缝 縮缩 縱纵 總总 績绩 織织 繞绕 繡绣 "
    "繩绳 繫系 繳缴 續续 纔才 纖纤 纜缆 罈坛 罎坛 罰罚 罵骂 罷罢 羅罗 羣群 義义 習习 翫玩 翹翘 聖圣 聞闻 "
    "聯联 聰聪 聲声 聳耸 職职 聽听 脩修 脫脱 腳脚 膚肤 膠胶 臉脸 臘腊 臟脏 臥卧 臨临 臺台 與与 舉举 舊旧 "
    "艙舱 艦舰 艱艰 芻刍 莊庄 菸烟 萬万 葉叶 著着 葯药 葷荤 蒼苍 蓋盖 蔥葱 蕭萧 薦荐 藍蓝 藝艺 藥药 蘇苏 "
    "蘋苹 蘭兰 處处 虛虚 號号 虧亏 蝕蚀 蝦虾 蟲虫 蟻蚁 蠅蝇 蠟蜡 蠶蚕 衆众 衕同 衚胡 衛卫 衝冲 衞卫 裊袅 "
    "裏里 補补 裝装 裡里 製制 複复 褲裤 襪袜 襬摆 覈核 見见 規规 視视 親亲 覺觉 觀观 觸触 訂订 計计 訊讯 "
    "討讨 訓训 託托 記记 訟讼 訪访 設设 許许 訴诉 診诊 証证 評评 詞词 詢询 試试 話话 該该 詳详 誇夸 誌志 "
    "認认 誕诞 語语 誠诚 誤误 說说 説说 誰谁 課课 調调 談谈 諉诿 請请 諒谅 論论 諮咨 諸诸 諾诺 謀谋 謊谎 "
    "謎谜 講讲 謝谢 謹谨 譁哗 證证 識识 譟噪 譯译 議议 護护 讀读 變变 讓让 讚赞 豈岂 豐丰 貓猫 貝贝 貞贞 "
    "負负 財财 貧贫 貨货 貪贪 責责 貴贵 貸贷 費费 貼贴 貿贸 賀贺 資资 賊贼 賓宾 賠赔 賣卖 質质 賬账 賭赌 "
    "購购 賽赛 贈赠 贊赞 贏赢 趕赶 趙赵 跡迹 踐践 蹤踪 蹺跷 躍跃 車车 軌轨 軍军 軟软 較较 載载 輔辅 輕轻 "
    "輛辆 輩辈 輪轮 輯辑 輸输 轄辖 轉转 轎轿 轟轰 辦办 辭辞 辯辩 農农 迴回 這这 連连 週周 進进 遊游 運运 "
    "過过 達达 違违 遙遥 遞递 遠远 適适 遲迟 遷迁 選选 遺遗 邁迈 還还 邊边 邏逻 郵邮 鄉乡 鄭郑 鄰邻 醫医 "
    "釋释 釘钉 針针 釣钓 釦扣 鈅钥 鈕钮 鈡钟 鈴铃 鉆钻 鉤钩 銀银 銷销 銹锈 鋁铝 鋪铺 鋸锯 鋼钢 錄录 錘锤 "
    "錢钱 錦锦 錯错 録录 錶表 鍋锅 鍵键 鍼针 鍾钟 鎖锁 鎮镇 鏈链 鏡镜 鏽锈 鐘钟 鐲镯 鐵铁 鑰钥 鑽钻 鑿凿 "
    "長长 門门 閃闪 閉闭 開开 閒闲 間间 閘闸 閤合 閥阀 閱阅 闆板 闊阔 闖闯 關关 闡阐 陞升 陣阵 陰阴 陳陈 "
    "陸陆 陽阳 隊队 階阶 際际 隨随 險险 隱隐 隸隶 隻只 雖虽 雙双 雜杂 雞鸡 離离 難难 雲云 電电 霧雾 靈灵 "
    "靜静 鞦秋 韆千 韌韧 韓韩 響响 頁页 頂顶 項项 順顺 須须 預预 頒颁 頓顿 領领 頭头 頰颊 頸颈 頻频 顆颗 "
    "題题 額额 顏颜 顔颜 願愿 類类 顧顾 顯显 風风 颱台 颳刮 飄飘 飛飞 飯饭 飲饮 飼饲 養养 餘余 館馆 餬糊 "
    "餵喂 饑饥 馬马 駁驳 駐驻 駕驾 駡骂 騎骑 騙骗 騰腾 驗验 驚惊 驛驿 髒脏 體体 髮发 鬆松 鬍胡 鬥斗 鬧闹 "
    "鬨哄 鬱郁 魚鱼 鳥鸟 鳴鸣 鴨鸭 鴿鸽 鵝鹅 鷄鸡 鹹咸 鹽盐 麥麦 麪面 麫面 麵面 麼么 麽么 黃黄 點点 黨党 "
    "黴霉 齊齐 齒齿 齣出 龍龙 龜龟 "
)

# Input-method slips and colloquialisms rewritten before matching (after traditional → simplified).
# The hotline's "业主来电反映" boilerplate loses its 来电, which would otherwise read as "power is back".
ZH_REWRITES: tuple[tuple[str, str], ...] = (
    ("来电反映", "反映"),
    ("来电咨询", "咨询"),
    ("来电表扬", "表扬"),
    ("来电建议", "建议"),
    ("来电投诉", "投诉"),
    ("来电求助", "求助"),
    ("物叶", "物业"),
    ("物管", "物业"),
    ("电题", "电梯"),
    ("电悌", "电梯"),
    ("楼到", "楼道"),
    ("水笼头", "水龙头"),
    ("下水到", "下水道"),
    ("拉圾", "垃圾"),
    ("垃极", "垃圾"),
    ("电瓶车", "电动车"),
)
# Latin-letter abbreviations used in Chinese chat (pinyin initials), rewritten when standing alone.
ASCII_REWRITES: tuple[tuple[str, str], ...] = (
    ("wy", "物业"),
    ("tcf", "停车费"),
    ("wyf", "物业费"),
    ("dbq", "对不起"),
    ("yyds", "永远的神"),
)
