"""Running a network on a real board (iCEBreaker): flash image, UART protocol, host client,
board build and a whole-board simulation reached through the same client (docs/board.md)."""
