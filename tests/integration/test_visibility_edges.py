"""Every field that leads to a user, post, comment, story or reel hides what the viewer may not
see.
Subscriptions too: what they push is checked the same way, over a WebSocket.

The fields are read from the schema itself: each field, on every type reachable from the
root types, whose type is `User`, `Post`, `Comment`, `Story` or `Reel`, an interface or union one of them
implements, or a connection of them. Each has a case below: a request that reaches the
field, run in two worlds, one where the hidden account blocked the viewer and one where it
is private and the viewer does not follow it. The viewer's response must hold none of the
hidden records; an allowed viewer's response to the same request must hold some of them,
which shows that the request does reach them. A field without a case fails the test.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

import pytest
from graphql import (
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    get_named_type,
)

from schema import build_schema
from tests.client import TEST_PASSWORD, Account, GraphQLClient
from tests.media import jpeg
from tests.notifications import until_notified
from tests.reels import CLIP, until_processed
from tests.ws import ATTEMPT_SECONDS, ATTEMPTS, receive, socket, subscribe

RECORD_TYPES = {"User", "Post", "Comment", "Story", "Reel"}

FOLLOW = "mutation ($id: ID!) { followUser(userId: $id) { state errors { code } } }"
APPROVE = """mutation ($id: ID!) { respondToFollowRequest(userId: $id, approve: true) {
  errors { code } } }"""
BLOCK = "mutation ($id: ID!) { blockUser(userId: $id) { ok } }"
LIKE = "mutation ($id: ID!) { likePost(postId: $id) { errors { code } } }"
UNLIKE = "mutation ($id: ID!) { unlikePost(postId: $id) { errors { code } } }"
ADD_COMMENT = """mutation ($post: ID!, $text: String!, $replyTo: ID) {
  addComment(input: {postId: $post, text: $text, replyToId: $replyTo}) {
    comment { id } errors { code } } }"""
FEED = "{ feed { edges { node { id } } } }"
CREATE_STORY = """mutation ($upload: ID!) { createStory(input: {uploadId: $upload}) {
  story { id } errors { code } } }"""
CREATE_REEL = """mutation ($upload: ID!, $caption: String, $cmid: String) {
  createReel(input: {uploadId: $upload, caption: $caption, clientMutationId: $cmid}) {
    reel { id } errors { code } } }"""
SEEN = "mutation ($id: ID!) { markStorySeen(storyId: $id) { errors { code } } }"
SEND = """mutation ($to: [ID!]!, $text: String!, $client: String!) {
  sendMessage(input: {recipientIds: $to, text: $text, clientId: $client}) {
    message { thread { id } } errors { code } } }"""


def reachable_types(schema: GraphQLSchema) -> list[GraphQLNamedType]:
    """Every type a response can hold, from the root types down."""
    roots = [schema.query_type, schema.mutation_type, schema.subscription_type]
    pending: list[GraphQLNamedType] = [root for root in roots if root is not None]
    seen: dict[str, GraphQLNamedType] = {}
    while pending:
        named = pending.pop()
        if named.name in seen:
            continue
        seen[named.name] = named
        if isinstance(named, GraphQLInterfaceType | GraphQLUnionType):
            pending.extend(schema.get_possible_types(named))
        if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
            pending.extend(get_named_type(field.type) for field in named.fields.values())
    return list(seen.values())


def _node_type(connection: GraphQLNamedType) -> GraphQLNamedType | None:
    """The node type of a Relay connection type, None for any other type."""
    if not isinstance(connection, GraphQLObjectType) or "edges" not in connection.fields:
        return None
    edge = get_named_type(connection.fields["edges"].type)
    if not isinstance(edge, GraphQLObjectType) or "node" not in edge.fields:
        return None
    node: GraphQLNamedType = get_named_type(edge.fields["node"].type)
    return node


def _is_record(schema: GraphQLSchema, named: GraphQLNamedType) -> bool:
    if isinstance(named, GraphQLInterfaceType | GraphQLUnionType):
        return any(kind.name in RECORD_TYPES for kind in schema.get_possible_types(named))
    return named.name in RECORD_TYPES


def fields_leading_to_records(schema: GraphQLSchema) -> set[str]:
    """ "Type.field" for every field that leads to a user, post, comment or story. A connection's
    own edges and nodes are left out: the field that returns the connection stands for them."""
    types = reachable_types(schema)
    connections = {named.name for named in types if _node_type(named) is not None}
    edges = {
        get_named_type(named.fields["edges"].type).name
        for named in types
        if isinstance(named, GraphQLObjectType) and named.name in connections
    }
    found = set()
    for named in types:
        if not isinstance(named, GraphQLObjectType) or named.name in connections | edges:
            continue
        for name, field in named.fields.items():
            target = get_named_type(field.type)
            node = _node_type(target)
            if _is_record(schema, target) or (node is not None and _is_record(schema, node)):
                found.add(f"{named.name}.{name}")
    return found


class Scenario(Enum):
    BLOCKED = "blocked"  # the hidden account blocked the viewer
    PRIVATE = "private"  # the hidden account is private, and the viewer only asked to follow


@dataclass(frozen=True)
class World:
    """Accounts and records, some hidden from `viewer`, each by the world's one reason.

    Every id below is a Relay global id."""

    scenario: Scenario
    viewer: Account  # private, so the hidden account could ask to follow it
    follower: Account  # private too; follows `owner` (approved) and sees all it may
    stranger: Account | None  # follows neither `owner` nor its posts: Explore's audience
    owner: Account  # the blocker, or the private account
    post: str  # by `owner`; carries `tag`
    tag: str
    comment: str  # hidden
    reply: str  # replies to `comment`
    thread: str  # a comment with a hidden reply
    commented: str  # a post whose comments include `comment`
    mentioning: str  # a post that mentions a hidden account, or is hidden itself
    lister: Account  # whose follower and following lists hold a hidden account
    message_thread: str  # the viewer's, `owner`'s and `follower`'s; `owner` wrote to it
    story: str  # by `owner`
    # Account id -> that account's story, seen by `owner` where `owner` could see it.
    own_stories: dict[str, str]
    reel: str  # by `owner`
    commented_reel: str  # a reel with a hidden comment, or hidden itself
    mentioning_reel: str  # a reel that mentions a hidden account, or is hidden itself
    # Account id -> the clientMutationId of a reel of that account's mentioning `owner`.
    reel_keys: dict[str, str]
    secrets: frozenset[str]  # the hidden records' ids and texts


Variables = Callable[[World, Account], dict[str, Any]]


def _owner(world: World, _: Account) -> dict[str, Any]:
    return {"id": world.owner.id, "username": world.owner.username}


def _follower_as_control(world: World) -> Account | None:
    return world.follower


def _blocked_world_control(world: World) -> Account | None:
    """A private account hides no user: only a block hides a thread's people."""
    return world.follower if world.scenario is Scenario.BLOCKED else None


def _blocked_world_lister(world: World) -> Account | None:
    """In the blocked world, `owner` saw the lister's story before the block: the lister
    sees `owner` among its viewers. A private account hides no viewer."""
    return world.lister if world.scenario is Scenario.BLOCKED else None


def _own_story(world: World, me: Account) -> dict[str, Any]:
    return {"id": world.own_stories[me.id]}


def _explore_control(world: World) -> Account | None:
    """Explore shows only public accounts the viewer does not follow: a stranger sees the
    blocker's post there, and no one sees a private account's."""
    return world.stranger


@dataclass(frozen=True)
class Case:
    document: str
    variables: Variables = _owner
    # A viewer allowed to see the hidden records, who must see some of them through the
    # document; None where the field shows them to no one.
    control: Callable[[World], Account | None] = _follower_as_control


POSTS = "posts { edges { node { id caption } } }"
FOLLOWING_POSTS = f"following {{ edges {{ node {{ id {POSTS} }} }} }}"


def _reel(field: str) -> Callable[[World, Account], dict[str, Any]]:
    return lambda world, _: {"id": getattr(world, field)}


CASES: dict[str, Case] = {
    "Query.node": Case(
        """query ($id: ID!, $post: ID!, $comment: ID!, $story: ID!, $reel: ID!) {
          user: node(id: $id) { id } post: node(id: $post) { id } comment: node(id: $comment) { id }
          story: node(id: $story) { id } reel: node(id: $reel) { id } }""",
        lambda world, _: {
            "id": world.owner.id,
            "post": world.post,
            "comment": world.comment,
            "story": world.story,
            "reel": world.reel,
        },
    ),
    "Query.reels": Case(
        "{ reels(first: 100) { edges { node { id caption author { id } } } } }", lambda *_: {}
    ),
    "Reel.author": Case(
        "query ($id: ID!) { node(id: $id) { ... on Reel { id author { id } } } }", _reel("reel")
    ),
    "Reel.comments": Case(
        "query ($id: ID!) { node(id: $id) { ... on Reel { id comments { edges { node { id text } } } } } }",
        _reel("commented_reel"),
    ),
    "Reel.mentions": Case(
        "query ($id: ID!) { node(id: $id) { ... on Reel { id caption mentions { id } } } }",
        _reel("mentioning_reel"),
    ),
    # A retry of the viewer's own createReel: the reel it made mentions `owner`, which a
    # block hides (a private account's profile hides from no one).
    "ReelPayload.reel": Case(
        """mutation ($key: String!) { createReel(input: {uploadId: "retry", clientMutationId: $key}) {
          reel { id mentions { id } } } }""",
        lambda world, me: {"key": world.reel_keys[me.id]},
        control=_blocked_world_control,
    ),
    "StoryTrayEntry.user": Case(f"{{ storyTray {{ user {{ id {POSTS} }} }} }}", lambda *_: {}),
    "StoryTrayEntry.stories": Case("{ storyTray { stories { id } } }", lambda *_: {}),
    # Seeing a story one may see again changes nothing: the follower saw it already.
    "StoryPayload.story": Case(
        "mutation ($id: ID!) { markStorySeen(storyId: $id) { story { id } } }",
        lambda world, _: {"id": world.story},
    ),
    "Story.viewers": Case(
        "query ($id: ID!) { node(id: $id) { id ... on Story { viewers { edges { node { id } } } } } }",
        _own_story,
        control=_blocked_world_lister,
    ),
    "Query.viewer": Case(f"{{ viewer {{ id {FOLLOWING_POSTS} }} }}", lambda *_: {}),
    "Query.user": Case(
        f"query ($username: String!) {{ user(username: $username) {{ id {POSTS} }} }}"
    ),
    "Query.searchUsers": Case(
        f"query ($username: String!) {{ searchUsers(query: $username) {{ edges {{ node {{ id {POSTS} }} }} }} }}"
    ),
    "Query.feed": Case(
        """{ ranked: feed(first: 100) { edges { node { id caption } } }
             chronological: feed(first: 100, order: CHRONOLOGICAL) { edges { node { id caption } } } }""",
        lambda *_: {},
    ),
    "Query.explore": Case(
        "{ explore(first: 100) { edges { node { id caption } } } }",
        lambda *_: {},
        control=_explore_control,
    ),
    "Query.followRequests": Case(
        f"{{ followRequests {{ edges {{ node {{ id {POSTS} }} }} }} }}", lambda *_: {}
    ),
    "User.posts": Case(f"query ($id: ID!) {{ node(id: $id) {{ id ... on User {{ {POSTS} }} }} }}"),
    "User.followers": Case(
        "query ($id: ID!) { node(id: $id) { id ... on User { followers { edges { node { id } } } } } }",
        lambda world, _: {"id": world.lister.id},
    ),
    "User.following": Case(
        "query ($id: ID!) { node(id: $id) { id ... on User { following { edges { node { id } } } } } }",
        lambda world, _: {"id": world.lister.id},
    ),
    "Post.author": Case(
        "query ($id: ID!) { node(id: $id) { id ... on Post { author { id } } } }",
        lambda world, _: {"id": world.post},
    ),
    "Post.comments": Case(
        "query ($id: ID!) { node(id: $id) { id ... on Post { comments { edges { node { id text } } } } } }",
        lambda world, _: {"id": world.commented},
    ),
    "Post.mentions": Case(
        "query ($id: ID!) { node(id: $id) { id ... on Post { mentions { id } } } }",
        lambda world, _: {"id": world.mentioning},
    ),
    "Comment.author": Case(
        "query ($id: ID!) { node(id: $id) { id ... on Comment { text author { id } } } }",
        lambda world, _: {"id": world.comment},
    ),
    "Comment.replyTo": Case(
        "query ($id: ID!) { node(id: $id) { id ... on Comment { replyTo { id text author { id } } } } }",
        lambda world, _: {"id": world.reply},
    ),
    "Comment.post": Case(
        "query ($id: ID!) { node(id: $id) { id ... on Comment { post { id caption } } } }",
        lambda world, _: {"id": world.comment},
    ),
    "Comment.replies": Case(
        "query ($id: ID!) { node(id: $id) { id ... on Comment { replies { edges { node { id text } } } } } }",
        lambda world, _: {"id": world.thread},
    ),
    "Thread.participants": Case(
        "query ($id: ID!) { node(id: $id) { id ... on Thread { participants { id } } } }",
        lambda world, _: {"id": world.message_thread},
        control=_blocked_world_control,
    ),
    "Message.sender": Case(
        """query ($id: ID!) { node(id: $id) { id ... on Thread {
          messages { edges { node { seq sender { id } } } } } } }""",
        lambda world, _: {"id": world.message_thread},
        control=_blocked_world_control,
    ),
    "Hashtag.posts": Case(
        "query ($tag: String!) { hashtag(name: $tag) { posts { edges { node { id caption } } } } }",
        lambda world, _: {"tag": world.tag},
    ),
    "Notification.actors": Case(
        "{ notifications(first: 100) { edges { node { kind actors { id } } } } }",
        lambda *_: {},
        control=_blocked_world_control,  # a private account's profile hides from no one
    ),
    "Notification.post": Case(
        "{ notifications(first: 100) { edges { node { kind post { id caption } } } } }",
        lambda *_: {},
    ),
    "Notification.comment": Case(
        "{ notifications(first: 100) { edges { node { kind comment { id text } } } } }",
        lambda *_: {},
    ),
    "AuthPayload.user": Case(
        f"""mutation ($login: String!, $password: String!) {{
          logIn(input: {{login: $login, password: $password}}) {{ user {{ id {FOLLOWING_POSTS} }} }} }}""",
        lambda _, me: {"login": me.username, "password": TEST_PASSWORD},
    ),
    "UserPayload.user": Case(
        f"""mutation {{ updateProfile(input: {{bio: "edges"}}) {{ user {{ id {FOLLOWING_POSTS} }} }} }}""",
        lambda *_: {},
    ),
    # Already following, or already asked: the request changes nothing.
    "FollowPayload.user": Case(
        f"mutation ($id: ID!) {{ followUser(userId: $id) {{ user {{ id {POSTS} }} }} }}"
    ),
    # Not liked before: the request changes nothing.
    "PostPayload.post": Case(
        "mutation ($id: ID!) { unlikePost(postId: $id) { post { id caption } } }",
        lambda world, _: {"id": world.post},
    ),
    "CommentPayload.comment": Case(
        """mutation ($id: ID!) { addComment(input: {postId: $id, text: "edges"}) {
          comment { id post { id caption } } } }""",
        lambda world, _: {"id": world.post},
    ),
}


def test_every_field_leading_to_a_user_post_comment_story_or_reel_has_a_case() -> None:
    fields = fields_leading_to_records(build_schema(mask_errors=False)._schema)
    cases = CASES.keys() | PUSHES.keys() | AUTHOR_ONLY.keys()

    assert sorted(fields - cases) == [], "fields without a visibility case"
    assert sorted(cases - fields) == [], "cases of fields the schema no longer has"


class Actions:
    def __init__(self, graphql: GraphQLClient) -> None:
        self.graphql = graphql

    async def follow(self, follower: Account, followee: Account) -> None:
        await self.graphql.data(FOLLOW, {"id": followee.id}, token=follower.token)

    async def approve(self, followee: Account, follower: Account) -> None:
        data = await self.graphql.data(APPROVE, {"id": follower.id}, token=followee.token)
        assert data["respondToFollowRequest"]["errors"] == []

    async def post(self, author: Account, caption: str) -> str:
        payload = await self.graphql.create_post(author, [jpeg(64, 64)], caption)
        assert payload["errors"] == [], payload["errors"]
        post_id: str = payload["post"]["id"]
        return post_id

    async def comment(
        self, author: Account, post: str, text: str, reply_to: str | None = None
    ) -> str:
        variables = {"post": post, "text": text, "replyTo": reply_to}
        data = await self.graphql.data(ADD_COMMENT, variables, token=author.token)
        assert data["addComment"]["errors"] == []
        comment_id: str = data["addComment"]["comment"]["id"]
        return comment_id

    async def like(self, fan: Account, post: str) -> None:
        await self.graphql.data(LIKE, {"id": post}, token=fan.token)

    async def story(self, author: Account) -> str:
        upload = await self.graphql.upload(author, jpeg(64, 64))
        data = await self.graphql.data(CREATE_STORY, {"upload": upload}, token=author.token)
        assert data["createStory"]["errors"] == []
        story_id: str = data["createStory"]["story"]["id"]
        return story_id

    async def reel(self, author: Account, caption: str, key: str | None = None) -> str:
        """A READY reel: made, then waited for while the server's worker processes it."""
        upload = await self.graphql.upload(author, CLIP, "video/mp4")
        variables = {"upload": upload, "caption": caption, "cmid": key}
        data = await self.graphql.data(CREATE_REEL, variables, token=author.token)
        assert data["createReel"]["errors"] == []
        reel_id: str = data["createReel"]["reel"]["id"]
        assert (await until_processed(self.graphql, author, reel_id))["status"] == "READY"
        return reel_id

    async def see(self, viewer: Account, story: str) -> None:
        data = await self.graphql.data(SEEN, {"id": story}, token=viewer.token)
        assert data["markStorySeen"]["errors"] == []

    async def message(self, sender: Account, recipients: list[Account], text: str) -> str:
        variables = {"to": [r.id for r in recipients], "text": text, "client": uuid.uuid4().hex}
        data = await self.graphql.data(SEND, variables, token=sender.token)
        assert data["sendMessage"]["errors"] == []
        thread_id: str = data["sendMessage"]["message"]["thread"]["id"]
        return thread_id


async def blocked_world(graphql: GraphQLClient) -> World:
    """`owner` blocked the viewer after they followed each other around it."""
    act, nonce = Actions(graphql), uuid.uuid4().hex[:10]
    viewer = await graphql.sign_up("viewer", private=True)
    follower = await graphql.sign_up("follower", private=True)
    stranger, third, owner = [
        await graphql.sign_up(role) for role in ("stranger", "third", "owner")
    ]
    tag = f"edges{nonce}"
    for fan, star in [
        (viewer, owner),
        (viewer, third),
        (follower, owner),
        (stranger, third),
        (third, owner),
        (owner, third),
        (owner, viewer),  # a request: the viewer is private
        (owner, follower),  # a request too
    ]:
        await act.follow(fan, star)
    mentions = f"@{viewer.username} @{follower.username}"  # told to them as notifications
    post = await act.post(owner, f"hidden-post-{nonce} #{tag} {mentions}")
    open_post = await act.post(third, f"visible-post-{nonce} #{tag} @{owner.username}")
    comment = await act.comment(owner, open_post, f"hidden-comment-{nonce} {mentions}")
    thread = await act.comment(third, open_post, f"visible-comment-{nonce}")
    hidden_reply = await act.comment(owner, open_post, f"hidden-reply-{nonce}", thread)
    reply = await act.comment(third, open_post, f"visible-reply-{nonce}", comment)
    await act.like(third, post)  # so that the viewer's and the stranger's Explore hold it
    await graphql.data(FEED, token=viewer.token)  # the viewer's feed exists, with the post
    message_thread = await act.message(owner, [viewer, follower], f"message-{nonce}")
    await told_of(graphql, follower, post, comment)
    await act.approve(viewer, owner)  # so that the owner sees the viewer's story, and views it
    story = await act.story(owner)
    await act.see(follower, story)
    own_stories = {account.id: await act.story(account) for account in (viewer, third)}
    for seen in own_stories.values():
        await act.see(owner, seen)
    reel = await act.reel(owner, f"hidden-reel-{nonce}")
    open_reel = await act.reel(third, f"visible-reel-{nonce} @{owner.username}")
    reel_comment = await act.comment(owner, open_reel, f"hidden-reel-comment-{nonce}")
    reel_keys = {account.id: f"reel-{nonce}-{account.id}"[:64] for account in (viewer, follower)}
    for account in (viewer, follower):
        await act.reel(account, f"@{owner.username}", reel_keys[account.id])
    await graphql.data(BLOCK, {"id": viewer.id}, token=owner.token)
    return World(
        scenario=Scenario.BLOCKED,
        viewer=viewer,
        follower=follower,
        stranger=stranger,
        owner=owner,
        post=post,
        tag=tag,
        comment=comment,
        reply=reply,
        thread=thread,
        commented=open_post,
        mentioning=open_post,
        lister=third,
        message_thread=message_thread,
        story=story,
        own_stories=own_stories,
        reel=reel,
        commented_reel=open_reel,
        mentioning_reel=open_reel,
        reel_keys=reel_keys,
        secrets=frozenset(
            [owner.id, post, comment, hidden_reply, story, reel, reel_comment]
            + [f"hidden-{kind}-{nonce}" for kind in ("post", "comment", "reply", "reel")]
        ),
    )


async def private_world(graphql: GraphQLClient) -> World:
    """`owner` is private; the viewer asked to follow it and was not approved."""
    act, nonce = Actions(graphql), uuid.uuid4().hex[:10]
    viewer = await graphql.sign_up("viewer", private=True)
    follower = await graphql.sign_up("follower", private=True)
    third, insider = await graphql.sign_up("third"), await graphql.sign_up("insider")
    owner = await graphql.sign_up("owner", private=True)
    tag = f"edges{nonce}"
    await act.follow(viewer, owner)  # asked, never approved
    for fan in (follower, third, insider):
        await act.follow(fan, owner)
        await act.approve(owner, fan)
    for fan, star in [(owner, insider), (owner, viewer), (owner, follower), (viewer, third)]:
        await act.follow(fan, star)
    mentions = f"@{viewer.username} @{follower.username}"  # told to the follower only
    post = await act.post(owner, f"hidden-post-{nonce} #{tag} @{third.username} {mentions}")
    comment = await act.comment(third, post, f"hidden-comment-{nonce} {mentions}")
    reply = await act.comment(third, post, f"hidden-reply-{nonce}", comment)
    await act.like(third, post)  # so that the viewer's Explore would hold it
    message_thread = await act.message(owner, [viewer, follower], f"message-{nonce}")
    await told_of(graphql, follower, post, comment)
    story = await act.story(owner)
    for fan in (insider, follower):
        await act.see(fan, story)
    own_stories = {viewer.id: await act.story(viewer)}
    reel = await act.reel(owner, f"hidden-reel-{nonce} @{third.username}")
    reel_comment = await act.comment(third, reel, f"hidden-reel-comment-{nonce}")
    reel_keys = {account.id: f"reel-{nonce}-{account.id}"[:64] for account in (viewer, follower)}
    for account in (viewer, follower):
        await act.reel(account, f"@{owner.username}", reel_keys[account.id])
    return World(
        scenario=Scenario.PRIVATE,
        viewer=viewer,
        follower=follower,
        stranger=None,
        owner=owner,
        post=post,
        tag=tag,
        comment=comment,
        reply=reply,
        thread=comment,
        commented=post,
        mentioning=post,
        lister=owner,
        message_thread=message_thread,
        story=story,
        own_stories=own_stories,
        reel=reel,
        commented_reel=reel,
        mentioning_reel=reel,
        reel_keys=reel_keys,
        secrets=frozenset(
            [insider.id, post, comment, reply, story, reel, reel_comment]
            + [f"hidden-{kind}-{nonce}" for kind in ("post", "comment", "reply", "reel")]
        ),
    )


async def told_of(graphql: GraphQLClient, follower: Account, post: str, comment: str) -> None:
    """Waits for the worker to have told `follower` of the mentions in the hidden post and
    comment: the viewer's notifications of them were then written too, or refused."""

    def mentioned(nodes: list[dict[str, Any]]) -> bool:
        about = {(node["post"] or {}).get("id") for node in nodes} | {
            (node["comment"] or {}).get("id") for node in nodes
        }
        return {post, comment} <= about

    await until_notified(graphql, follower, mentioned)


@pytest.fixture(scope="module", params=list(Scenario), ids=lambda scenario: scenario.value)
async def world(request: pytest.FixtureRequest, graphql: GraphQLClient) -> World:
    if request.param is Scenario.BLOCKED:
        return await blocked_world(graphql)
    return await private_world(graphql)


async def secrets_seen(
    graphql: GraphQLClient, world: World, case: Case, viewer: Account
) -> list[str]:
    body = await graphql.execute(case.document, case.variables(world, viewer), token=viewer.token)
    assert "errors" not in body, body["errors"]
    response = json.dumps(body)
    return sorted(secret for secret in world.secrets if secret in response)


@pytest.mark.parametrize("field", sorted(CASES))
async def test_a_hidden_record_does_not_come_back_through(
    field: str, world: World, graphql: GraphQLClient
) -> None:
    case = CASES[field]
    control = case.control(world)

    seen_by_viewer = await secrets_seen(graphql, world, case, world.viewer)

    assert seen_by_viewer == []
    if control is not None:
        assert await secrets_seen(graphql, world, case, control) != [], "reaches nothing hidden"


# ------------------------------------------------------------------- subscriptions


@dataclass(frozen=True)
class Pushes:
    """A subscription's case: the viewer subscribes, a hidden record is made to be pushed
    (`hidden`), then a visible one (`marker`). A viewer who may not see the hidden record
    gets the marker first (or has the subscription refused); the control gets both."""

    document: str
    variables: Callable[[World], dict[str, Any]]
    hidden: Callable[[Actions, World], Awaitable[None]]
    # Returns what identifies its push (an id or a text in it).
    marker: Callable[[Actions, World, int], Awaitable[str]]


def _secret(world: World, prefix: str) -> str:
    return next(secret for secret in world.secrets if secret.startswith(prefix))


async def _owner_comments(act: Actions, world: World) -> None:
    await act.comment(world.owner, world.commented, _secret(world, "hidden-comment-"))


async def _follower_comments(act: Actions, world: World, attempt: int) -> str:
    text = f"marker {attempt} {uuid.uuid4().hex}"
    await act.comment(world.follower, world.commented, text)
    return text


def _owner_likes(post: Callable[[World], str]) -> Callable[[Actions, World], Awaitable[None]]:
    async def like(act: Actions, world: World) -> None:
        await act.graphql.data(UNLIKE, {"id": post(world)}, token=world.owner.token)
        await act.like(world.owner, post(world))  # a new like, pushed again

    return like


def _marker_likes(
    post: Callable[[World], str],
) -> Callable[[Actions, World, int], Awaitable[str]]:
    async def like(act: Actions, world: World, attempt: int) -> str:
        if world.scenario is Scenario.PRIVATE:
            # Only approved followers may like a private account's post: the follower's
            # like again (unliked first, so it is new). The viewer's subscription is
            # refused in this world, so no marker is ever looked for there.
            follower = world.follower
            await act.graphql.data(UNLIKE, {"id": post(world)}, token=follower.token)
            await act.like(follower, post(world))
            return follower.id
        newcomer = await act.graphql.sign_up("marker")
        await act.like(newcomer, post(world))
        return newcomer.id

    return like


def _post(world: World) -> str:
    return world.post


def _commented(world: World) -> str:
    return world.commented


PUSHES: dict[str, Pushes] = {
    "Subscription.commentAdded": Pushes(
        "subscription ($id: ID!) { commentAdded(postId: $id) { id text author { id } } }",
        lambda world: {"id": world.commented},
        _owner_comments,
        _follower_comments,
    ),
    "PostLike.post": Pushes(
        "subscription ($id: ID!) { postLiked(postId: $id) { post { id caption } user { id } } }",
        lambda world: {"id": world.post},
        _owner_likes(_post),
        _marker_likes(_post),
    ),
    "PostLike.user": Pushes(
        "subscription ($id: ID!) { postLiked(postId: $id) { post { id } user { id } } }",
        lambda world: {"id": world.commented},
        _owner_likes(_commented),
        _marker_likes(_commented),
    ),
}


async def pushed_secrets(
    graphql: GraphQLClient, world: World, pushes: Pushes, viewer: Account
) -> list[str]:
    """The secrets in what `viewer`'s subscription received, up to the last marker."""
    act = Actions(graphql)
    url = str(graphql.http.base_url).rstrip("/")
    received: list[Any] = []
    async with socket(url, viewer.token) as ws:
        await subscribe(ws, "1", pushes.document, pushes.variables(world))
        # A refusal comes at once; an accepted subscription says nothing until an event,
        # so markers are made until one is pushed (it has started: see tests/ws.py).
        for attempt in range(ATTEMPTS):
            await pushes.marker(act, world, attempt)
            try:
                received.append(await receive(ws, ATTEMPT_SECONDS))
                break
            except TimeoutError:
                continue
        else:
            raise AssertionError(f"nothing pushed after {ATTEMPTS} markers")
        if "errors" not in received[0]["payload"]:
            await pushes.hidden(act, world)
            last = await pushes.marker(act, world, ATTEMPTS)
            while last not in json.dumps(received[-1]):
                received.append(await receive(ws))
            # What is hidden is skipped, not pushed as an error (a null that failed a field)
            assert [m for m in received if "errors" in m["payload"]] == [], received
    return sorted(secret for secret in world.secrets if secret in json.dumps(received))


# Subscriptions for the record's author alone: everyone else, in every world, is refused
# with an error naming the argument, and the author is not.
AUTHOR_ONLY: dict[str, str] = {
    "Subscription.reelProcessed": "subscription ($id: ID!) { reelProcessed(reelId: $id) { id } }",
}


@pytest.mark.parametrize("field", sorted(AUTHOR_ONLY))
async def test_an_author_only_subscription_refuses_everyone_but_the_author(
    field: str, world: World, graphql: GraphQLClient
) -> None:
    url = str(graphql.http.base_url).rstrip("/")
    others = [world.viewer, world.follower] + ([world.stranger] if world.stranger else [])
    for account in others:
        async with socket(url, account.token) as ws:
            await subscribe(ws, "1", AUTHOR_ONLY[field], {"id": world.reel})
            refused = await receive(ws)
        [error] = refused["payload"]["errors"]
        assert error["extensions"]["field"] == "reelId", (account.username, error)
    async with socket(url, world.owner.token) as ws:
        await subscribe(ws, "1", AUTHOR_ONLY[field], {"id": world.reel})
        with pytest.raises(TimeoutError):  # accepted: it waits for an event
            await receive(ws, ATTEMPT_SECONDS)


@pytest.mark.parametrize("field", sorted(PUSHES))
async def test_a_hidden_record_is_not_pushed_through(
    field: str, world: World, graphql: GraphQLClient
) -> None:
    pushes = PUSHES[field]

    assert await pushed_secrets(graphql, world, pushes, world.viewer) == []
    seen_by_control = await pushed_secrets(graphql, world, pushes, world.follower)
    assert seen_by_control != [], "reaches nothing hidden"
