"""A page's worth of data for the read path: posts by many authors, each with comments and
likes, all under one hashtag and all in the viewer's home feed, written straight through
the stores."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from resolvers.context import Services
from storage.comment import CommentRecord
from storage.follow import FollowState
from storage.post import CommentRef, MediaRecord, PostRecord, RenditionRecord

COMMENTS_PER_POST = 3

# The contract's PostCard, paged the way the feed pages it.
POST_PAGE_QUERY = """
query PostPage($tag: String!, $first: Int!) {
  hashtag(name: $tag) {
    posts(first: $first) {
      edges { cursor node { ...PostCard } }
      pageInfo { hasNextPage endCursor }
    }
  }
}
fragment UserChip on User { id username displayName avatarUrl }
fragment PostCard on Post {
  id caption createdAt
  author { ...UserChip }
  media { id type url width height }
  likeCount commentCount viewerHasLiked
  comments(first: 2) { edges { node { id text author { id username } } } }
}
"""


# The contract's Feed operation with the same cards, the order passed explicitly.
FEED_QUERY = """
query Feed($first: Int!, $order: FeedOrder!) {
  feed(first: $first, order: $order) {
    edges { cursor node { ...PostCard } }
    pageInfo { hasNextPage endCursor }
  }
}
""" + POST_PAGE_QUERY[POST_PAGE_QUERY.index("fragment UserChip") :]


@dataclass(frozen=True)
class PostPage:
    viewer_id: int
    hashtag: str
    post_ids: list[int]


async def make_post_page(services: Services, posts: int) -> PostPage:
    stores, ids, now = services.stores, services.ids, services.clock()
    run = uuid.uuid4().hex[:8]

    async def user(name: str) -> int:
        record = await stores.users.insert(
            user_id=ids.next_id(),
            username=f"{name}_{run}",
            email=f"{name}_{run}@example.com",
            password_hash="unused",
            created_at=now,
        )
        return record.id

    viewer = await user("viewer")
    hashtag = f"page{run}"
    commenters = [await user(f"commenter{n}") for n in range(COMMENTS_PER_POST)]
    post_ids = []
    for index in range(posts):
        author = await user(f"author{index}")
        await stores.follows.insert(ids.next_id(), viewer, author, FollowState.FOLLOWING)
        post = PostRecord(
            id=ids.next_id(),
            author_id=author,
            caption=f"post {index} #{hashtag}",
            hashtags=(hashtag,),
            mention_ids=(),
            media=(
                MediaRecord(
                    ids.next_id(),
                    "IMAGE",
                    1080,
                    1080,
                    (RenditionRecord(1080, 1080, f"media/{index}.jpg"),),
                ),
            ),
            like_count=0,
            comment_count=0,
            preview_comments=(),
            created_at=now,
        )
        await stores.posts.insert(post, client_mutation_id=None)
        await stores.hashtags.increment([hashtag], 1)
        for commenter in commenters:
            comment = CommentRecord(ids.next_id(), post.id, commenter, "nice", None, 0, now)
            await stores.comments.insert(comment)
            await stores.posts.increment_counts(post.id, comment=1)
            await stores.posts.add_preview_comment(post.id, CommentRef(comment.id, commenter))
        if index % 2 == 0:
            await stores.likes.insert(ids.next_id(), viewer, post.id)
            await stores.posts.increment_counts(post.id, like=1)
        post_ids.append(post.id)
    # The viewer follows every author: fan-out on write would have put each post in the
    # viewer's feed, newest first.
    await stores.feeds.rebuild(viewer, reversed(post_ids))
    return PostPage(viewer_id=viewer, hashtag=hashtag, post_ids=post_ids)
