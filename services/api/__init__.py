"""The API: GraphQL over HTTP on Starlette, health and readiness."""
