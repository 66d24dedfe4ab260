"""What the meetings plugin puts in `WriteMinutes` from its settings and the context."""

from __future__ import annotations

from govbot.actions import GitPublishing
from tests.meetings.kit import Bot, file_of, minutes


async def meeting(bot: Bot) -> str:
    await bot.say("ada", "#startmeeting tc")
    return file_of(minutes(await bot.say("ada", "#endmeeting")), "log.txt")


async def test_the_bots_lines_carry_its_own_nick_from_the_context() -> None:
    log = await meeting(Bot(bot_nick="examplebot"))
    assert "<examplebot> Meeting started" in log


async def test_the_operators_bot_nick_setting_wins() -> None:
    log = await meeting(Bot(bot_nick="examplebot", settings={"bot_nick": "meetbot"}))
    assert "<meetbot> Meeting started" in log and "examplebot" not in log


async def test_the_action_carries_the_minutes_directory_and_git_settings() -> None:
    bot = Bot()
    await bot.say("ada", "#startmeeting tc")
    plain = minutes(await bot.say("ada", "#endmeeting"))
    assert plain.directory is None and plain.git is None  # the core's default directory
    bot = Bot(settings={"minutes_dir": "/srv/minutes", "git": {"remote": "origin"}})
    await bot.say("ada", "#startmeeting tc")
    published = minutes(await bot.say("ada", "#endmeeting"))
    assert published.directory == "/srv/minutes"
    assert published.git == GitPublishing(remote="origin")
