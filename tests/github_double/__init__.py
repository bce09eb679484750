"""A GitHub test double: the REST + GraphQL endpoints the bridge uses, in memory.

Requests are matched and validated against GitHub's own API description
(``@octokit/openapi``) and GraphQL schema (``@octokit/graphql-schema``); anything that
does not match lands in ``double.violations``. Answers are shaped to validate against
the documented responses (``double.response_violations()`` checks them).

Usage::

    double = GitHubDouble()
    installation_id = double.add_installation("acme", repos=["acme/mobile"])
    app = githubkit.GitHub(
        githubkit.AppAuthStrategy(double.app_id, double.private_key_pem),
        transport=double.transport,  # or base_url=... inside `with double.serve()`
        auto_retry=False,
        http_cache=False,
    )
    gh = app.with_auth(app.auth.as_installation(installation_id))
    double.faults.add(Fault(method="POST", path="/repos/{owner}/{repo}/issues",
                            kind="secondary_rate_limit", retry_after=30))
    double.graphql_resolvers["addProjectV2ItemById"] = lambda info, input: {...}

Modules: ``openapi`` (description, matching, validation), ``state`` (records and
GitHub's write rules), ``shapes`` (GitHub-shaped JSON), ``auth`` (JWTs and tokens),
``faults``, ``rest`` + ``routes_*`` (REST endpoints), ``graphql_api``, ``wsgi`` (the
request pipeline), ``server`` (transports), ``double`` (the façade), ``plugin``
(the pytest fixture).
"""

from tests.github_double.double import GitHubDouble
from tests.github_double.faults import Fault, FaultPlan
from tests.github_double.wsgi import Call

__all__ = ["Call", "Fault", "FaultPlan", "GitHubDouble"]
