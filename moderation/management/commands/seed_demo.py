"""Create the demo on first run: one staff account per role, categories, publishers, keys, a simulated node.

Logins are printed once, when the accounts are made; run again, it changes nothing.
"""

from __future__ import annotations

import json
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts import second_factor
from accounts.actions import create_machine_client, create_staff_user
from accounts.models import User
from accounts.roles import MACHINE_PLATFORM, Role
from moderation import actions
from moderation.actions.credit import apply_points
from moderation.identity import resident_id_check_digit
from moderation.models import (
    Appeal,
    BlacklistEntry,
    Category,
    CreditEvent,
    MediaServer,
    PlatformLicence,
    Publisher,
    SensitiveTerm,
    ServiceAgreement,
    VerificationReport,
)

DEMO_STAFF = [
    ("patroller", Role.PATROLLER, "巡查员 王静"),
    ("reviewer", Role.NEWS_REVIEWER, "新闻审核员 李明"),
    ("editor", Role.EDITOR_IN_CHIEF, "总编辑 张伟"),
    ("compliance", Role.COMPLIANCE_ADMIN, "合规管理员 赵敏"),
    ("inspector", Role.INSPECTOR, "检查人员 陈刚"),
]

DEMO_CATEGORIES = [
    # slug, name, news, tier, patrol interval, snapshot interval
    ("news", "新闻资讯", True, 1, 120, 5),
    ("shopping", "电商带货", False, 2, 300, 15),
    ("entertainment", "娱乐秀场", False, 2, 300, 15),
    ("games", "游戏竞技", False, 3, 600, 30),
    ("education", "知识教育", False, 3, 600, 30),
    ("outdoors", "户外旅行", False, 2, 300, 15),
]

DEMO_PUBLISHERS = [
    ("demo-1001", "美食小当家", "刘芳", "entertainment", "深夜食堂：今晚做红烧肉"),
    ("demo-1002", "峡谷老司机", "孙浩", "games", "王者荣耀巅峰赛冲分"),
    ("demo-1003", "山野行者", "周杰", "outdoors", "徒步秦岭：鳌太线第二天"),
    ("demo-1004", "好物推荐官", "吴婷", "shopping", "双十二年货节专场"),
    ("demo-1005", "数学王老师", "王磊", "education", "高三数学：导数压轴题"),
    ("demo-1006", "城市夜跑团", "郑强", "outdoors", "外滩夜跑十公里"),
    ("demo-1007", "古筝小雅", "冯雅", "entertainment", "古筝弹唱《青花瓷》"),
    ("demo-1008", "电竞解说阿杰", "陈杰", "games", "英雄联盟职业联赛解说"),
    ("demo-1009", "家常菜研究所", "褚红", "entertainment", "十分钟快手早餐"),
    ("demo-1010", "书法一刻", "卫东", "education", "楷书入门：横竖撇捺"),
    ("demo-1011", "田园小妹", "蒋丽", "shopping", "赣南脐橙产地直发"),
    ("demo-1012", "摄影课堂", "沈彬", "education", "手机夜景拍摄技巧"),
    ("demo-1013", "钓鱼老李", "韩涛", "outdoors", "千岛湖野钓实况"),
    ("demo-1014", "萌宠日记", "杨柳", "entertainment", "三只柯基的下午茶"),
    ("demo-1015", "财经观察", "朱明", "news", "财经早报直播"),
    ("demo-1016", "国风舞蹈", "秦月", "entertainment", "汉服舞《惊鸿》"),
    ("demo-1017", "象棋大师课", "许峰", "education", "中局战术精讲"),
    ("demo-1018", "街头篮球", "何亮", "games", "街球挑战赛"),
    ("demo-1019", "手工皮具", "吕晨", "shopping", "手工钱包制作与售卖"),
    ("demo-1020", "晨间瑜伽", "施琳", "education", "三十分钟晨练瑜伽"),
    ("demo-1021", "乡村厨房", "张婷", "entertainment", "柴火灶做腊肉"),
    ("demo-1022", "围棋研究社", "孔亮", "education", "复盘：定式新变化"),
    ("demo-1023", "自驾西藏", "曹宇", "outdoors", "G318 川藏线第五天"),
    ("demo-1024", "二次元画师", "严雪", "entertainment", "板绘角色设计"),
]

# News publishers with a verified news licence (Art. 5): account, name, real name, title, licence, scopes.
DEMO_NEWS_PUBLISHERS = [
    ("demo-1015", None, None, None, "京网新许字-2026-1015", ["gathering", "reposting"]),
    ("demo-1025", "城市快讯", "贾明", "城市快讯：早高峰路况直播", "沪网新许字-2026-1025", ["gathering"]),
    ("demo-1026", "环球视野", "罗娜", "环球视野：国际新闻转播", "粤网新许字-2026-1026", ["reposting"]),
]
# Applications waiting in the editor-in-chief's queue: account, title, outline, start in minutes,
# hours, origin, sources, recommended by the reviewer first.
DEMO_NEWS_APPLICATIONS = [
    ("demo-1015", "财经早报：央行降准解读", "解读本周货币政策，连线两位经济学家。", 0, 2, "original", [], True),
    ("demo-1025", "城市快讯：地铁新线开通现场", "记者在新线首班车上直播，采访乘客。", 30, 1, "original", [], False),
    (
        "demo-1026",
        "环球视野：气候大会开幕式转播",
        "转播大会开幕式，注明信源。",
        60,
        3,
        "reposted",
        [("新华社", "https://www.news.cn/world/"), ("央视新闻", "https://news.cctv.com/")],
        False,
    ),
]

# A few publishers' credit history (days ago, points, reason); the chart on their page shows it.
DEMO_CREDIT_HISTORY = {
    "demo-1002": [
        (20, -15, "直播中出现赌博引导（演示）"),
        (12, 3, "连续三天无违规（演示）"),
        (3, -5, "辱骂观众，警示（演示）"),
    ],
    "demo-1004": [
        (15, -15, "虚假宣传商品功效（演示）"),
        (9, -15, "再次虚假宣传（演示）"),
        (2, 2, "无违规直播（演示）"),
    ],
    "demo-1019": [(25, -30, "售卖违禁品（演示）"), (10, -40, "再次售卖违禁品（演示）")],
}
DEMO_APPEAL = ("demo-1004", "商品功效描述有检测报告支持，请复核第二次扣分。")

# Blacklist entries (none matches a demo publisher, so the wall keeps its streams): a closed
# fraudster's ID number, refused when they try to register again under a new account; a phone; a
# device; and an entry from 10 days ago not yet reported, so the console shows the report reminder.
DEMO_BLACKLIST = [
    # kind, value (an ID number is given without its check digit), reason, note, days ago
    ("id_document", "11010119850312003", "fraud", "直播间虚假抽奖诈骗，已移送公安机关", 2),
    ("phone", "+8613911112222", "gambling", "组织网络赌博的联系号码", 1),
    ("device", "imei-864290030112233", "pornography", "多次开播传播淫秽内容的设备", 0),
    ("platform_account", "old-9001", "rumour", "散布谣言，扰乱社会秩序", 10),
]

SIMULATOR_NODE = "sim-1"


def demo_id_number(first17: str) -> str:
    """A resident ID number with a valid GB 11643 check digit."""
    return first17 + resident_id_check_digit(first17)


def simulator_config_path():
    return settings.VAR_DIR / "simulator-node.json"


def _enrol_demo_authenticator(user: User) -> None:
    """Give a demo account its second factor, as its owner would at the first login (demo_totp shows the codes)."""
    from django_otp.oath import TOTP

    key = second_factor.new_authenticator_key()
    code = TOTP(bytes.fromhex(key)).token()
    second_factor.enrol_authenticator(user, key=key, code=f"{code:06d}", name=second_factor.DEMO_AUTHENTICATOR_NAME)


class Command(BaseCommand):
    help = "Create demo staff (logins printed once), categories, publishers, stream keys and a simulated node."

    def handle(self, *args, **options) -> None:
        with transaction.atomic():
            logins = self._staff()
            self._world()
            self._news()
            self._comments()
        if logins:
            self.stdout.write(self.style.WARNING("Demo staff logins (shown once; kept nowhere else):"))
            for username, password, label in logins:
                self.stdout.write(f"  {username:<12} {password:<14} ({label})")
            self.stdout.write(
                "After the password the login asks for a 6-digit code; the demo accounts' authenticator is\n"
                "  bin/manage demo_totp <username>   (prints the code to type, e.g. bin/manage demo_totp patroller)"
            )
        else:
            self.stdout.write("· demo data present")

    def _staff(self) -> list[tuple[str, str, str]]:
        logins = []
        for username, role, name in DEMO_STAFF:
            if User.objects.filter(username=username).exists():
                continue
            password = secrets.token_urlsafe(9)
            user = create_staff_user(username, role=role, password=password, display_name=name)
            _enrol_demo_authenticator(user)
            logins.append((username, password, str(Role(role).label)))
        return logins

    def _news(self) -> None:
        """The platform's licence, licensed news publishers and applications awaiting the editor-in-chief."""
        if PlatformLicence.objects.exists():
            return
        from datetime import timedelta

        from django.utils import timezone

        compliance = User.objects.filter(username="compliance").first()
        reviewer = User.objects.filter(username="reviewer").first()
        today = timezone.localdate()
        actions.record_platform_licence(
            "京网新许字-2026-0001",
            scopes=["gathering", "reposting", "platform"],
            valid_from=today - timedelta(days=200),
            valid_until=today + timedelta(days=3 * 365 - 200),
            actor=compliance,
        )
        news = Category.objects.get(slug="news")
        keys = {}
        for account, name, real_name, title, number, scopes in DEMO_NEWS_PUBLISHERS:
            publisher = Publisher.objects.filter(platform_account_id=account).first()
            if publisher is None:
                publisher = actions.register_publisher(
                    account,
                    display_name=name,
                    real_name=real_name,
                    document_number=demo_id_number("1101051990010" + account[-4:]),
                    phone="+86138" + account[-4:].rjust(8, "0"),
                    agreement_version="2026-01",
                )
                publisher = verify_as_platform(publisher)
                actions.issue_stream_key(publisher, category=news, default_title=title, key=f"demo-{account}")
            licence = actions.submit_publisher_licence(
                publisher,
                number=number,
                scopes=scopes,
                valid_from=today - timedelta(days=100),
                valid_until=today + timedelta(days=700),
                scan=f"demo licence scan {number}".encode(),
                scan_name="scan.txt",
                actor=None,
            )
            if compliance is not None:
                actions.verify_publisher_licence(licence, actor=compliance, verified=True, note="demo")
            keys[account] = publisher.stream_keys.filter(category=news).first()
        now = timezone.now()
        for account, title, outline, start, hours, origin, sources, recommended in DEMO_NEWS_APPLICATIONS:
            key = keys[account]
            application = actions.submit_news_application(
                key.publisher,
                stream_key=key,
                title=title,
                outline=outline,
                window_start=now + timedelta(minutes=start),
                window_end=now + timedelta(minutes=start, hours=hours),
                origin=origin,
                sources=sources,
                actor=None,
            )
            if recommended and reviewer is not None:
                actions.decide_news_application(
                    application, kind="recommend", actor=reviewer, note="信源可靠，建议通过"
                )

    def _world(self) -> None:
        if not ServiceAgreement.objects.exists():
            actions.publish_agreement("2026-01", title="直播服务协议及平台公约（2026年版）")
        categories = {}
        for slug, name, is_news, tier, patrol, snapshot in DEMO_CATEGORIES:
            category = Category.objects.filter(slug=slug).first() or actions.create_category(
                slug,
                name=name,
                is_news=is_news,
                risk_tier=tier,
                patrol_interval_seconds=patrol,
                snapshot_interval_seconds=snapshot,
            )
            categories[slug] = category
        for account, display_name, real_name, slug, title in DEMO_PUBLISHERS:
            if Publisher.objects.filter(platform_account_id=account).exists():
                continue
            publisher = actions.register_publisher(
                account,
                display_name=display_name,
                real_name=real_name,
                document_number=demo_id_number("11010519900101" + account[-3:]),
                phone="+86138" + account[-4:].rjust(8, "0"),
                agreement_version="2026-01",
            )
            publisher = verify_as_platform(publisher)
            actions.issue_stream_key(publisher, category=categories[slug], default_title=title, key=f"demo-{account}")
        self._credit()
        self._blacklist()
        path = simulator_config_path()
        node = MediaServer.objects.filter(name=SIMULATOR_NODE).first()
        if node is None or not path.exists():
            if node is None:
                node, secret = actions.register_media_server(
                    SIMULATOR_NODE,
                    kind=MediaServer.Kind.NGINX_RTMP,
                    control_url=f"http://127.0.0.1:{settings.LIVEWARD_SIMULATOR_CONTROL_PORT}/",
                    # The simulator serves a picture of each stream there, so the wall shows snapshots.
                    play_url=f"http://127.0.0.1:{settings.LIVEWARD_SIMULATOR_CONTROL_PORT}/frames",
                )
            else:  # the secret is stored hashed; a lost config file means a new secret
                secret = actions.rotate_media_server_secret(node, actor=None)
            path.parent.mkdir(parents=True, exist_ok=True)
            port = settings.LIVEWARD_SIMULATOR_CONTROL_PORT
            path.write_text(json.dumps({"node": node.name, "secret": secret, "control_port": port}))
            path.chmod(0o600)

    def _comments(self) -> None:
        """A few sensitive terms, and the platform-backend token the simulator's comment traffic uses."""
        admin = User.objects.filter(username="compliance").first()
        if admin is not None and not SensitiveTerm.objects.exists():
            demo_terms = "微信\tadvertising\tblock\n代开发票\tfraud\tblock\n赌博\tgambling\thold\n傻\tabuse\tflag\n"
            actions.import_terms(demo_terms.encode(), actor=admin)
        path = settings.VAR_DIR / "demo-platform-token"
        if not path.exists():
            _client, token = create_machine_client(
                f"demo-platform-{secrets.token_hex(3)}", kind=MACHINE_PLATFORM, actor=None
            )
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(token)
            path.chmod(0o600)

    def _credit(self) -> None:
        """Store the default credit policy (levels A–E) and a little history, with one pending appeal."""
        actions.ensure_credit_policy()
        if CreditEvent.objects.exists():
            return
        now = timezone.now()
        for account, history in DEMO_CREDIT_HISTORY.items():
            publisher = Publisher.objects.get(platform_account_id=account)
            for days_ago, points, reason in history:
                apply_points(
                    publisher.pk,
                    points=points,
                    kind=CreditEvent.Kind.MANUAL,
                    reason=reason,
                    at=now - timedelta(days=days_ago),
                )
        account, statement = DEMO_APPEAL
        event = CreditEvent.objects.filter(publisher__platform_account_id=account, points__lt=0).order_by("-at").first()
        actions.submit_appeal(
            kind=Appeal.Kind.CREDIT_EVENT,
            target_id=event.pk,
            publisher_account_id=account,
            statement=statement,
            submitted_by=None,
            platform_reference="demo-appeal-1",
        )

    def _blacklist(self) -> None:
        if BlacklistEntry.objects.exists():
            return
        author = User.objects.filter(username="compliance").first()
        if author is None:
            return
        now = timezone.now()
        for kind, value, reason, note, days_ago in DEMO_BLACKLIST:
            actions.add_blacklist_entry(
                kind,
                demo_id_number(value) if kind == "id_document" else value,
                actor=author,
                reason=reason,
                note=note,
                created_at=now - timedelta(days=days_ago),
            )


def verify_as_platform(publisher: Publisher) -> Publisher:
    """Verify a demo publisher the way the platform's backend does: a report from its KYC provider."""
    report = actions.report_verification(
        publisher,
        method=VerificationReport.Method.ID_FACE,
        provider="demo-kyc",
        reference=f"demo-{publisher.platform_account_id}",
        result=VerificationReport.Result.VERIFIED,
        performed_at=timezone.now(),
        actor=None,
    )
    return report.publisher
