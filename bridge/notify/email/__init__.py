"""Email to the people who asked to hear when their request ships (Amazon SES v2).

Opt-in (``notify: true`` on a submission or vote, or a voter token's claim),
double opt-in for typed addresses, one email per recipient per status change,
signed unsubscribe links, and SES bounce and complaint feedback. Importing the
package costs nothing: botocore and Jinja load where first used.
"""
