"""The GraphQL documents of GitHub Projects (v2) boards (``github_app.projects``).

Each is validated against GitHub's schema by the test double on every use.
"""

BOARD_QUERY = """
query($owner: String!, $number: Int!) {
  organization(login: $owner) {
    projectV2(number: $number) {
      id
      status: field(name: "Status") {
        ... on ProjectV2FieldCommon { id dataType }
        ... on ProjectV2SingleSelectField { options { id name } }
      }
      votes: field(name: "Votes") {
        ... on ProjectV2FieldCommon { id dataType }
      }
    }
  }
}
"""
OWNER_QUERY = """
query($owner: String!, $number: Int!) {
  user(login: $owner) {
    login
    projectV2(number: $number) { id }
  }
}
"""
ISSUE_ID_QUERY = """
query($owner: String!, $name: String!, $number: Int!) {
  repository(owner: $owner, name: $name) { issue(number: $number) { id } }
}
"""
ISSUE_CARDS_QUERY = """
query($owner: String!, $name: String!, $number: Int!) {
  repository(owner: $owner, name: $name) {
    issue(number: $number) {
      projectItems(first: 50) {
        nodes {
          id
          project { id }
          votes: fieldValueByName(name: "Votes") {
            ... on ProjectV2ItemFieldNumberValue { number }
          }
        }
      }
    }
  }
}
"""
ITEMS_QUERY = """
query($owner: String!, $number: Int!, $after: String) {
  organization(login: $owner) {
    projectV2(number: $number) {
      items(first: 100, after: $after) {
        pageInfo { hasNextPage endCursor }
        nodes {
          isArchived
          content { ... on Issue { number repository { nameWithOwner } } }
          status: fieldValueByName(name: "Status") {
            ... on ProjectV2ItemFieldSingleSelectValue { name }
          }
        }
      }
    }
  }
}
"""
CARD_QUERY = """
query($item: ID!, $project: ID!, $content: ID!) {
  project: node(id: $project) {
    ... on ProjectV2 {
      number
      owner { ... on Organization { login } }
    }
  }
  content: node(id: $content) {
    ... on Issue {
      id number title url state stateReason createdAt updatedAt closedAt
      repository { nameWithOwner }
      labels(first: 100) { nodes { name } }
      reactions(content: THUMBS_UP) { totalCount }
    }
  }
  item: node(id: $item) {
    ... on ProjectV2Item {
      isArchived
      status: fieldValueByName(name: "Status") {
        ... on ProjectV2ItemFieldSingleSelectValue { name }
      }
    }
  }
}
"""
ADD_ITEM_MUTATION = """
mutation($project: ID!, $content: ID!) {
  addProjectV2ItemById(input: {projectId: $project, contentId: $content}) { item { id } }
}
"""
SET_NUMBER_MUTATION = """
mutation($project: ID!, $item: ID!, $field: ID!, $number: Float!) {
  updateProjectV2ItemFieldValue(
    input: {projectId: $project, itemId: $item, fieldId: $field, value: {number: $number}}
  ) { projectV2Item { id } }
}
"""
