"""Each served contract operation, sent as the frontend sends it, behaves as its comment says."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.client import TEST_PASSWORD, Account, GraphQLClient
from tests.contract import operation_source, served_operation_names
from tests.media import jpeg
from tests.reels import CLIP, ready_reel, until_processed
from tests.ws import ATTEMPTS, first_pushed, next_data, socket, subscribe


async def run(
    graphql: GraphQLClient, operation: str, token: str | None = None, **variables: Any
) -> Any:
    data = await graphql.data(operation_source(operation), variables, token=token)
    return next(iter(data.values())) if len(data) == 1 else data


PHOTO = jpeg(320, 240)
NOTIFIED_SECONDS = 20  # only bounds a failing test: the worker writes within milliseconds


async def new_post(graphql: GraphQLClient, author: Account, caption: str = "") -> str:
    payload = await graphql.create_post(author, [PHOTO], caption)
    assert payload["errors"] == []
    post_id: str = payload["post"]["id"]
    return post_id


async def sign_up(graphql: GraphQLClient) -> None:
    username = f"contract_{uuid.uuid4().hex[:8]}"
    payload = await run(
        graphql,
        "SignUp",
        username=username,
        email=f"{username}@example.com",
        password=TEST_PASSWORD,
    )
    assert payload["errors"] == [] and payload["token"]
    assert payload["user"]["username"] == username
    assert set(payload["user"]) == {"id", "username", "displayName", "avatarUrl"}


async def log_in(graphql: GraphQLClient) -> None:
    account = await graphql.sign_up()
    payload = await run(graphql, "LogIn", login=account.email, password=TEST_PASSWORD)
    assert payload["errors"] == [] and payload["user"]["id"] == account.id


async def log_out(graphql: GraphQLClient) -> None:
    account = await graphql.sign_up()
    assert (await run(graphql, "LogOut", account.token)) == {"ok": True}
    body = await graphql.execute(operation_source("Viewer"), token=account.token)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def viewer(graphql: GraphQLClient) -> None:
    account = await graphql.sign_up()
    me = await run(graphql, "Viewer", account.token)
    assert me["id"] == account.id
    assert (me["followerCount"], me["followingCount"], me["postCount"]) == (0, 0, 0)


async def update_profile(graphql: GraphQLClient) -> None:
    account = await graphql.sign_up()
    payload = await run(
        graphql, "UpdateProfile", account.token, displayName="Grace", bio="COBOL", isPrivate=True
    )
    assert payload["errors"] == []
    assert payload["user"] | {"id": None} == {
        "id": None,
        "username": account.username,
        "displayName": "Grace",
        "avatarUrl": None,
        "bio": "COBOL",
        "isPrivate": True,
    }


async def followers(graphql: GraphQLClient) -> None:
    star, fan = await graphql.sign_up(), await graphql.sign_up()
    await run(graphql, "FollowUser", fan.token, userId=star.id)
    page = (await run(graphql, "Followers", star.token, userId=star.id))["followers"]
    assert [edge["node"]["id"] for edge in page["edges"]] == [fan.id]
    assert page["pageInfo"]["hasNextPage"] is False


async def follow_user(graphql: GraphQLClient) -> None:
    fan, star, owner = [await graphql.sign_up() for _ in range(3)]
    await run(graphql, "UpdateProfile", owner.token, isPrivate=True)
    public = await run(graphql, "FollowUser", fan.token, userId=star.id)
    private = await run(graphql, "FollowUser", fan.token, userId=owner.id)
    assert (public["state"], public["user"]["followerCount"]) == ("FOLLOWING", 1)
    assert (private["state"], private["user"]["followerCount"]) == ("REQUESTED", 0)


async def unfollow_user(graphql: GraphQLClient) -> None:
    fan, star = await graphql.sign_up(), await graphql.sign_up()
    await run(graphql, "FollowUser", fan.token, userId=star.id)
    payload = await run(graphql, "UnfollowUser", fan.token, userId=star.id)
    assert payload["user"]["followerCount"] == 0
    assert payload["user"]["viewerFollowState"] == "NONE"


async def follow_requests(graphql: GraphQLClient) -> None:
    fan, owner = await graphql.sign_up(), await graphql.sign_up()
    await run(graphql, "UpdateProfile", owner.token, isPrivate=True)
    await run(graphql, "FollowUser", fan.token, userId=owner.id)
    page = await run(graphql, "FollowRequests", owner.token)
    assert [edge["node"]["username"] for edge in page["edges"]] == [fan.username]


async def respond_to_follow_request(graphql: GraphQLClient) -> None:
    fan, owner = await graphql.sign_up(), await graphql.sign_up()
    await run(graphql, "UpdateProfile", owner.token, isPrivate=True)
    await run(graphql, "FollowUser", fan.token, userId=owner.id)
    payload = await run(graphql, "RespondToFollowRequest", owner.token, userId=fan.id, approve=True)
    assert payload["errors"] == []
    state = await run(graphql, "FollowUser", fan.token, userId=owner.id)
    assert state["state"] == "FOLLOWING"


async def block_user(graphql: GraphQLClient) -> None:
    alice, bob = await graphql.sign_up(), await graphql.sign_up()
    assert await run(graphql, "BlockUser", alice.token, userId=bob.id) == {"ok": True, "errors": []}
    assert (
        await graphql.data(operation_source("Followers"), {"userId": alice.id}, token=bob.token)
    )["node"] is None


async def unblock_user(graphql: GraphQLClient) -> None:
    alice, bob = await graphql.sign_up(), await graphql.sign_up()
    await run(graphql, "BlockUser", alice.token, userId=bob.id)
    assert await run(graphql, "UnblockUser", alice.token, userId=bob.id) == {
        "ok": True,
        "errors": [],
    }


async def search_users(graphql: GraphQLClient) -> None:
    account = await graphql.sign_up()
    page = await run(graphql, "SearchUsers", query=account.username)
    assert [edge["node"]["id"] for edge in page["edges"]] == [account.id]


async def profile(graphql: GraphQLClient) -> None:
    author, stranger = await graphql.sign_up(), await graphql.sign_up()
    ids = [await new_post(graphql, author) for _ in range(3)]
    page = await run(graphql, "Profile", stranger.token, username=author.username, first=2)
    assert (page["postCount"], page["viewerFollowState"], page["followsViewer"]) == (
        3,
        "NONE",
        False,
    )
    assert [edge["node"]["id"] for edge in page["posts"]["edges"]] == ids[:0:-1]
    after = page["posts"]["pageInfo"]["endCursor"]
    rest = await run(graphql, "Profile", stranger.token, username=author.username, after=after)
    assert [edge["node"]["id"] for edge in rest["posts"]["edges"]] == ids[:1]


async def create_upload(graphql: GraphQLClient) -> None:
    account = await graphql.sign_up()
    payload = await run(graphql, "CreateUpload", account.token, contentType="image/png", byteSize=5)
    assert payload["errors"] == []
    assert {"key", "Content-Type"} <= {field["name"] for field in payload["upload"]["fields"]}
    assert payload["upload"]["url"].startswith("http")


async def create_post(graphql: GraphQLClient) -> None:
    author, friend = await graphql.sign_up(), await graphql.sign_up()
    upload_id = await graphql.upload(author, PHOTO)
    caption = f"hi @{friend.username} #contract"
    variables = {"uploadIds": [upload_id], "caption": caption, "clientMutationId": "m-1"}
    payload = await run(graphql, "CreatePost", author.token, **variables)
    assert payload["errors"] == []
    post = payload["post"]
    assert (post["caption"], post["hashtags"], post["mentions"]) == (
        caption,
        ["contract"],
        [{"id": friend.id, "username": friend.username}],
    )
    assert (post["likeCount"], post["commentCount"], post["viewerHasLiked"]) == (0, 0, False)
    assert post["author"]["id"] == author.id and post["media"][0]["url"].startswith("http")
    again = await run(graphql, "CreatePost", author.token, **variables)
    assert again["post"]["id"] == post["id"]


async def delete_post(graphql: GraphQLClient) -> None:
    author = await graphql.sign_up()
    post_id = await new_post(graphql, author)
    assert await run(graphql, "DeletePost", author.token, postId=post_id) == {
        "ok": True,
        "errors": [],
    }
    assert await run(graphql, "Post", id=post_id) is None


async def post(graphql: GraphQLClient) -> None:
    author, fan = await graphql.sign_up(), await graphql.sign_up()
    post_id = await new_post(graphql, author)
    await run(graphql, "LikePost", fan.token, postId=post_id)
    await run(graphql, "AddComment", fan.token, postId=post_id, text="first!")
    card = await run(graphql, "Post", fan.token, id=post_id)
    assert (card["id"], card["likeCount"], card["viewerHasLiked"], card["commentCount"]) == (
        post_id,
        1,
        True,
        1,
    )
    assert [edge["node"]["text"] for edge in card["comments"]["edges"]] == ["first!"]


async def like_post(graphql: GraphQLClient) -> None:
    author, fan = await graphql.sign_up(), await graphql.sign_up()
    post_id = await new_post(graphql, author)
    await run(graphql, "LikePost", fan.token, postId=post_id)
    payload = await run(graphql, "LikePost", fan.token, postId=post_id)
    assert payload["post"] == {"id": post_id, "likeCount": 1, "viewerHasLiked": True}


async def unlike_post(graphql: GraphQLClient) -> None:
    author, fan = await graphql.sign_up(), await graphql.sign_up()
    post_id = await new_post(graphql, author)
    await run(graphql, "LikePost", fan.token, postId=post_id)
    payload = await run(graphql, "UnlikePost", fan.token, postId=post_id)
    assert payload["post"] == {"id": post_id, "likeCount": 0, "viewerHasLiked": False}
    again = await run(graphql, "UnlikePost", fan.token, postId=post_id)
    assert again["errors"] == [] and again["post"]["likeCount"] == 0


async def add_comment(graphql: GraphQLClient) -> None:
    author, fan = await graphql.sign_up(), await graphql.sign_up()
    post_id = await new_post(graphql, author)
    top = await run(graphql, "AddComment", fan.token, postId=post_id, text="nice")
    reply = await run(
        graphql,
        "AddComment",
        author.token,
        postId=post_id,
        text="thanks",
        replyToId=top["comment"]["id"],
    )
    assert top["comment"]["author"]["id"] == fan.id and top["comment"]["replyTo"] is None
    assert reply["comment"]["replyTo"] == {"id": top["comment"]["id"]}


async def delete_comment(graphql: GraphQLClient) -> None:
    author, fan = await graphql.sign_up(), await graphql.sign_up()
    post_id = await new_post(graphql, author)
    added = await run(graphql, "AddComment", fan.token, postId=post_id, text="oops")
    payload = await run(graphql, "DeleteComment", author.token, commentId=added["comment"]["id"])
    assert payload == {"ok": True, "errors": []}


async def comments(graphql: GraphQLClient) -> None:
    author = await graphql.sign_up()
    post_id = await new_post(graphql, author)
    for text in ("a", "b", "c"):
        await run(graphql, "AddComment", author.token, postId=post_id, text=text)
    page = await run(graphql, "Comments", postId=post_id, first=2)
    assert page["commentCount"] == 3
    assert [edge["node"]["text"] for edge in page["comments"]["edges"]] == ["a", "b"]
    after = page["comments"]["pageInfo"]["endCursor"]
    rest = await run(graphql, "Comments", postId=post_id, after=after)
    assert [edge["node"]["text"] for edge in rest["comments"]["edges"]] == ["c"]


async def hashtag(graphql: GraphQLClient) -> None:
    author = await graphql.sign_up()
    tag = f"contract{uuid.uuid4().hex[:8]}"
    post_id = await new_post(graphql, author, f"#{tag}")
    page = await run(graphql, "Hashtag", name=tag)
    assert (page["name"], page["postCount"]) == (tag, 1)
    assert [edge["node"]["id"] for edge in page["posts"]["edges"]] == [post_id]


async def feed(graphql: GraphQLClient) -> None:
    author, reader = await graphql.sign_up(), await graphql.sign_up()
    await run(graphql, "FollowUser", reader.token, userId=author.id)
    older, newer = await new_post(graphql, author), await new_post(graphql, author)
    chronological = await run(graphql, "Feed", reader.token, order="CHRONOLOGICAL")
    assert [edge["node"]["id"] for edge in chronological["edges"]] == [newer, older]
    ranked = await run(graphql, "Feed", reader.token, first=1)
    assert ranked["pageInfo"]["hasNextPage"] is True
    rest = await run(graphql, "Feed", reader.token, after=ranked["pageInfo"]["endCursor"])
    shown = [edge["node"]["id"] for edge in ranked["edges"] + rest["edges"]]
    assert sorted(shown) == sorted([newer, older])
    assert ranked["edges"][0]["node"]["author"]["id"] == author.id


async def explore(graphql: GraphQLClient) -> None:
    author, viewer = await graphql.sign_up(), await graphql.sign_up()
    post_id = await new_post(graphql, author)
    for fan in [await graphql.sign_up() for _ in range(3)]:
        await run(graphql, "LikePost", fan.token, postId=post_id)
    page = await run(graphql, "Explore", viewer.token, first=100)
    assert post_id in [edge["node"]["id"] for edge in page["edges"]]
    assert all(edge["node"]["author"]["id"] != viewer.id for edge in page["edges"])


async def send(graphql: GraphQLClient, sender: Account, text: str, **target: Any) -> dict[str, Any]:
    payload = await run(
        graphql, "SendMessage", sender.token, text=text, clientId=uuid.uuid4().hex, **target
    )
    assert payload["errors"] == [], payload["errors"]
    message: dict[str, Any] = payload["message"]
    return message


async def send_message(graphql: GraphQLClient) -> None:
    alice, bob = await graphql.sign_up(), await graphql.sign_up()
    first = await send(graphql, alice, "hi bob", recipientIds=[bob.id])
    # Naming the same people again finds the same thread; the reply goes to it by id.
    second = await send(graphql, alice, "still there?", recipientIds=[bob.id])
    reply = await send(graphql, bob, "yes", threadId=first["thread"]["id"])
    assert second["thread"] == reply["thread"] == first["thread"]
    assert [first["seq"], second["seq"], reply["seq"]] == [1, 2, 3]
    assert (reply["text"], reply["sender"]["id"]) == ("yes", bob.id)


async def inbox(graphql: GraphQLClient) -> None:
    alice, bob, carol = [await graphql.sign_up() for _ in range(3)]
    with_bob = await send(graphql, alice, "to bob", recipientIds=[bob.id])
    await send(graphql, alice, "to carol", recipientIds=[carol.id])
    latest = await send(graphql, bob, "back to alice", threadId=with_bob["thread"]["id"])
    page = await run(graphql, "Inbox", alice.token)
    # Most recently active first: bob's answer moved his thread to the top.
    [top, below] = [edge["node"] for edge in page["edges"]]
    assert (top["id"], top["lastMessage"]["id"], top["unreadCount"]) == (
        with_bob["thread"]["id"],
        latest["id"],
        1,
    )
    assert {user["id"] for user in top["participants"]} == {alice.id, bob.id}
    assert (below["lastMessage"]["text"], below["unreadCount"]) == ("to carol", 0)


async def thread_messages(graphql: GraphQLClient) -> None:
    alice, bob = await graphql.sign_up(), await graphql.sign_up()
    sent = [await send(graphql, alice, f"m{n}", recipientIds=[bob.id]) for n in range(4)]
    thread_id = sent[0]["thread"]["id"]
    caught_up = await run(graphql, "ThreadMessages", bob.token, threadId=thread_id, afterSeq=2)
    edges = caught_up["messages"]["edges"]
    assert [edge["node"]["seq"] for edge in edges] == [3, 4]
    assert [edge["node"]["text"] for edge in edges] == ["m2", "m3"]
    outsider = await graphql.sign_up()
    assert await run(graphql, "ThreadMessages", outsider.token, threadId=thread_id) is None


async def mark_thread_read(graphql: GraphQLClient) -> None:
    alice, bob = await graphql.sign_up(), await graphql.sign_up()
    sent = [await send(graphql, alice, f"m{n}", recipientIds=[bob.id]) for n in range(3)]
    thread_id = sent[0]["thread"]["id"]
    read = await run(graphql, "MarkThreadRead", bob.token, threadId=thread_id, seq=2)
    assert (read["errors"], read["thread"]["unreadCount"]) == ([], 1)
    # Never backwards: an older seq leaves the read position where it was.
    again = await run(graphql, "MarkThreadRead", bob.token, threadId=thread_id, seq=1)
    assert again["thread"]["unreadCount"] == 1


async def notifications(graphql: GraphQLClient) -> None:
    author = await graphql.sign_up()
    fans = [await graphql.sign_up() for _ in range(4)]
    post_id = await new_post(graphql, author)
    for fan in fans:
        await run(graphql, "LikePost", fan.token, postId=post_id)
    # Written by the worker after each like responded: the group grows to its four likers.
    page = await until_notifications(graphql, author, lambda page: liked_by(page) == 4)
    [edge] = page["notifications"]["edges"]
    node = edge["node"]
    assert (node["kind"], node["read"], node["post"], node["comment"]) == (
        "LIKE",
        False,
        {"id": post_id},
        None,
    )
    assert [actor["id"] for actor in node["actors"]] == [fan.id for fan in fans[::-1][:3]]
    assert page["unreadNotificationCount"] == 1
    assert page["notifications"]["pageInfo"]["hasNextPage"] is False


async def mark_notifications_read(graphql: GraphQLClient) -> None:
    star, fan = await graphql.sign_up(), await graphql.sign_up()
    await run(graphql, "FollowUser", fan.token, userId=star.id)
    await until_notifications(graphql, star, lambda page: page["unreadNotificationCount"] == 1)
    assert await run(graphql, "MarkNotificationsRead", star.token) == {"ok": True}
    page = await run(graphql, "Notifications", star.token)
    assert page["unreadNotificationCount"] == 0
    assert [edge["node"]["read"] for edge in page["notifications"]["edges"]] == [True]


def liked_by(page: dict[str, Any]) -> int:
    return sum(edge["node"]["actorCount"] for edge in page["notifications"]["edges"])


async def until_notifications(
    graphql: GraphQLClient, account: Account, wanted: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    page: dict[str, Any] = {}
    for _ in range(int(NOTIFIED_SECONDS / 0.02)):
        page = await run(graphql, "Notifications", account.token)
        if wanted(page):
            return page
        await asyncio.sleep(0.02)
    pytest.fail(f"the notifications never got there: {page}")


async def new_story(graphql: GraphQLClient, author: Account) -> dict[str, Any]:
    payload = await run(
        graphql, "CreateStory", author.token, uploadId=await graphql.upload(author, PHOTO)
    )
    assert payload["errors"] == [], payload["errors"]
    story: dict[str, Any] = payload["story"]
    return story


async def create_story(graphql: GraphQLClient) -> None:
    author = await graphql.sign_up()
    story = await new_story(graphql, author)
    assert (story["media"]["type"], story["media"]["width"]) == ("IMAGE", 320)
    assert story["media"]["url"].startswith("http")
    lifetime = datetime.fromisoformat(story["expiresAt"]) - datetime.fromisoformat(
        story["createdAt"]
    )
    assert lifetime == timedelta(hours=24)


async def story_tray(graphql: GraphQLClient) -> None:
    author, fan = await graphql.sign_up(), await graphql.sign_up()
    await run(graphql, "FollowUser", fan.token, userId=author.id)
    story = await new_story(graphql, author)
    [entry] = await run(graphql, "StoryTray", fan.token)
    assert (entry["user"]["id"], entry["hasUnseen"]) == (author.id, True)
    assert [(s["id"], s["viewerHasSeen"]) for s in entry["stories"]] == [(story["id"], False)]
    own = await new_story(graphql, fan)
    # The viewer's own entry leads, then the accounts with unseen stories.
    tray = await run(graphql, "StoryTray", fan.token)
    assert [(e["user"]["id"], e["stories"][0]["id"]) for e in tray] == [
        (fan.id, own["id"]),
        (author.id, story["id"]),
    ]


async def mark_story_seen(graphql: GraphQLClient) -> None:
    author, fan = await graphql.sign_up(), await graphql.sign_up()
    await run(graphql, "FollowUser", fan.token, userId=author.id)
    story = await new_story(graphql, author)
    for _ in range(2):  # idempotent
        payload = await run(graphql, "MarkStorySeen", fan.token, storyId=story["id"])
        assert payload == {"story": {"id": story["id"], "viewerHasSeen": True}, "errors": []}
    [entry] = await run(graphql, "StoryTray", fan.token)
    assert entry["hasUnseen"] is False


async def story_viewers(graphql: GraphQLClient) -> None:
    author, fan = await graphql.sign_up(), await graphql.sign_up()
    await run(graphql, "FollowUser", fan.token, userId=author.id)
    story = await new_story(graphql, author)
    await run(graphql, "MarkStorySeen", fan.token, storyId=story["id"])
    seen = await run(graphql, "StoryViewers", author.token, storyId=story["id"])
    assert seen["viewerCount"] == 1
    assert [edge["node"]["id"] for edge in seen["viewers"]["edges"]] == [fan.id]
    assert seen["viewers"]["pageInfo"]["hasNextPage"] is False
    # Only the author may list them.
    body = await graphql.execute(
        operation_source("StoryViewers"), {"storyId": story["id"]}, token=fan.token
    )
    assert {error["extensions"]["code"] for error in body["errors"]} == {"FORBIDDEN"}


async def media_bytes(url: str) -> bytes:
    async with httpx.AsyncClient() as client:
        response = await client.get(url)
    assert response.status_code == 200, url
    return response.content


async def create_reel(graphql: GraphQLClient) -> None:
    author, fan = await graphql.sign_up(), await graphql.sign_up()
    upload = await graphql.upload(author, CLIP, "video/mp4")
    caption = f"first reel #Demo @{fan.username}"
    key = str(uuid.uuid4())
    payload = await run(
        graphql, "CreateReel", author.token, uploadId=upload, caption=caption, clientMutationId=key
    )
    assert payload["errors"] == [], payload["errors"]
    reel = payload["reel"]
    # It exists at once, its video null until the job has transcoded it.
    assert (reel["caption"], reel["video"], reel["author"]["id"]) == (caption, None, author.id)
    # A retry with the same clientMutationId returns the same reel, even with another upload.
    again = await run(
        graphql, "CreateReel", author.token, uploadId=await graphql.upload(author, CLIP, "video/mp4"),
        caption=caption, clientMutationId=key,
    )  # fmt: skip
    assert again["reel"]["id"] == reel["id"]
    ready = await until_processed(graphql, author, reel["id"])
    video = ready["video"]
    assert ready["status"] == "READY"
    assert (video["width"], video["height"]) == (320, 240)
    assert abs(video["durationSeconds"] - 1.0) < 0.1
    assert (await media_bytes(video["url"]))[4:8] == b"ftyp"
    hashtags = await graphql.data(
        "query ($id: ID!) { node(id: $id) { ... on Reel { hashtags mentions { id } } } }",
        {"id": reel["id"]},
    )
    assert hashtags["node"] == {"hashtags": ["demo"], "mentions": [{"id": fan.id}]}


async def reels(graphql: GraphQLClient) -> None:
    author, viewer = await graphql.sign_up(), await graphql.sign_up()
    made = [(await ready_reel(graphql, author, caption=f"reel {n}"))["id"] for n in range(3)]
    seen: list[str] = []
    after = None
    for _ in range(3):  # a page at a time: the cursors go on where the last page ended
        page = await run(graphql, "Reels", viewer.token, first=1, after=after)
        seen += [edge["node"]["id"] for edge in page["edges"] if edge["node"]["id"] in made]
        after = page["pageInfo"]["endCursor"]
    first = (await run(graphql, "Reels", viewer.token, first=100))["edges"]
    shown = [edge["node"] for edge in first if edge["node"]["id"] in made]
    assert sorted(node["id"] for node in shown) == sorted(made)
    node = shown[0]
    assert node["video"]["url"].startswith("http") and node["author"]["id"] == author.id
    assert (node["likeCount"], node["commentCount"], node["viewCount"]) == (0, 0, 0)
    assert node["viewerHasLiked"] is False
    # The viewer's own reels are not in their stream.
    own = (await run(graphql, "Reels", author.token, first=100))["edges"]
    assert not {edge["node"]["id"] for edge in own} & set(made)


async def record_reel_view(graphql: GraphQLClient) -> None:
    author, viewer = await graphql.sign_up(), await graphql.sign_up()
    reel = await ready_reel(graphql, author)
    for seconds in (0.5, 30.0):  # a second watch is logged, not counted again
        payload = await run(
            graphql, "RecordReelView", viewer.token, reelId=reel["id"], watchedSeconds=seconds
        )
        assert payload == {"ok": True, "errors": []}
    assert (await until_processed(graphql, author, reel["id"]))["viewCount"] == 1
    refused = await run(
        graphql, "RecordReelView", viewer.token, reelId=reel["id"], watchedSeconds=-1.0
    )
    assert refused["ok"] is False
    assert [error["field"] for error in refused["errors"]] == ["watchedSeconds"]


def base_url(graphql: GraphQLClient) -> str:
    return str(graphql.http.base_url).rstrip("/")


async def post_liked(graphql: GraphQLClient) -> None:
    author, fans = await graphql.sign_up(), [await graphql.sign_up() for _ in range(ATTEMPTS)]
    post_id = await new_post(graphql, author)
    async with socket(base_url(graphql), author.token) as ws:
        await subscribe(ws, "1", operation_source("PostLiked"), {"postId": post_id})

        async def like(attempt: int) -> None:
            await run(graphql, "LikePost", fans[attempt].token, postId=post_id)

        attempt, data = await first_pushed(ws, like)
        fan = fans[attempt]
        assert data["postLiked"] == {
            "post": {"id": post_id, "likeCount": attempt + 1},
            "user": {"id": fan.id, "username": fan.username},
        }


async def comment_added(graphql: GraphQLClient) -> None:
    author, fan = await graphql.sign_up(), await graphql.sign_up()
    post_id = await new_post(graphql, author)
    async with socket(base_url(graphql), author.token) as ws:
        await subscribe(ws, "1", operation_source("CommentAdded"), {"postId": post_id})
        added: list[dict[str, Any]] = []

        async def comment(attempt: int) -> None:
            payload = await run(
                graphql, "AddComment", fan.token, postId=post_id, text=f"c{attempt}"
            )
            added.append(payload["comment"])

        attempt, data = await first_pushed(ws, comment)
        assert data["commentAdded"] == {
            key: added[attempt][key] for key in ("id", "text", "createdAt", "author")
        }


async def message_received(graphql: GraphQLClient) -> None:
    alice, bob = await graphql.sign_up(), await graphql.sign_up()
    async with socket(base_url(graphql), alice.token) as ws:
        await subscribe(ws, "1", operation_source("MessageReceived"))
        sent: list[dict[str, Any]] = []

        async def send_to_alice(attempt: int) -> None:
            sent.append(await send(graphql, bob, f"m{attempt}", recipientIds=[alice.id]))

        attempt, data = await first_pushed(ws, send_to_alice)
        message = data["messageReceived"]
        assert (message["id"], message["seq"]) == (sent[attempt]["id"], attempt + 1)
        assert message["sender"] == {"id": bob.id, "username": bob.username}
        # Her own messages too, as the contract says
        mine = await send(graphql, alice, "mine", threadId=message["thread"]["id"])
        assert (await next_data(ws))["messageReceived"]["id"] == mine["id"]


async def notification_received(graphql: GraphQLClient) -> None:
    author, fans = await graphql.sign_up(), [await graphql.sign_up() for _ in range(ATTEMPTS)]
    post_id = await new_post(graphql, author)
    async with socket(base_url(graphql), author.token) as ws:
        await subscribe(ws, "1", operation_source("NotificationReceived"))

        async def like(attempt: int) -> None:
            await run(graphql, "LikePost", fans[attempt].token, postId=post_id)

        attempt, data = await first_pushed(ws, like)
        pushed = data["notificationReceived"]
        # Written by the worker after the like responded, so perhaps after a later attempt's
        # like: the group's latest actor is one of the fans who liked by then.
        assert (pushed["kind"], pushed["post"]) == ("LIKE", {"id": post_id})
        likers = {(fan.id, fan.username) for fan in fans[: attempt + 1]}
        assert (pushed["actors"][0]["id"], pushed["actors"][0]["username"]) in likers
        page = await run(graphql, "Notifications", author.token)
        assert [edge["node"]["id"] for edge in page["notifications"]["edges"]] == [pushed["id"]]


SCENARIOS: dict[str, Callable[[GraphQLClient], Awaitable[None]]] = {
    "SignUp": sign_up,
    "LogIn": log_in,
    "LogOut": log_out,
    "Viewer": viewer,
    "UpdateProfile": update_profile,
    "Followers": followers,
    "FollowUser": follow_user,
    "UnfollowUser": unfollow_user,
    "FollowRequests": follow_requests,
    "RespondToFollowRequest": respond_to_follow_request,
    "BlockUser": block_user,
    "UnblockUser": unblock_user,
    "SearchUsers": search_users,
    "Profile": profile,
    "CreateUpload": create_upload,
    "CreatePost": create_post,
    "DeletePost": delete_post,
    "Post": post,
    "LikePost": like_post,
    "UnlikePost": unlike_post,
    "AddComment": add_comment,
    "DeleteComment": delete_comment,
    "Comments": comments,
    "Hashtag": hashtag,
    "Feed": feed,
    "Explore": explore,
    "SendMessage": send_message,
    "Inbox": inbox,
    "ThreadMessages": thread_messages,
    "MarkThreadRead": mark_thread_read,
    "Notifications": notifications,
    "MarkNotificationsRead": mark_notifications_read,
    "CreateStory": create_story,
    "StoryTray": story_tray,
    "MarkStorySeen": mark_story_seen,
    "StoryViewers": story_viewers,
    "CreateReel": create_reel,
    "Reels": reels,
    "RecordReelView": record_reel_view,
    "PostLiked": post_liked,
    "CommentAdded": comment_added,
    "MessageReceived": message_received,
    "NotificationReceived": notification_received,
}


def test_every_served_operation_has_a_scenario() -> None:
    assert set(SCENARIOS) == set(served_operation_names())


@pytest.mark.parametrize("name", sorted(SCENARIOS))
async def test_contract_operation_behaves_as_documented(
    media_graphql: GraphQLClient, name: str
) -> None:
    """In embedded mode, and against real Redis and S3 (moto's server) over HTTP."""
    await SCENARIOS[name](media_graphql)
