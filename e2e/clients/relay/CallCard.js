// A Relay component's fragment, compiled by relay-compiler in relay.test.mjs:
// @refetchable makes Relay generate a query that refetches a Call through
// Query.node(id:).
graphql`
  fragment CallCard_call on Call @refetchable(queryName: "CallCardRefetchQuery") {
    id
    status
    toPhoneNumber
    isCancelled
  }
`;
