// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// Emits events and reverts both ways a dapp sees: with a reason string (Error(string)) and with a custom error,
/// so that clients can be checked to decode each over JSON-RPC.
contract Guestbook {
    address public immutable owner;
    uint256 public entries;

    event Signed(address indexed by, uint256 indexed entry, string message);
    event Cleared(uint256 entries);

    error NotOwner(address caller, address owner);

    constructor() {
        owner = msg.sender;
    }

    function sign(string calldata message) external returns (uint256 entry) {
        require(bytes(message).length > 0, "empty message");
        entry = ++entries;
        emit Signed(msg.sender, entry, message);
    }

    function clear() external {
        if (msg.sender != owner) revert NotOwner(msg.sender, owner);
        emit Cleared(entries);
        entries = 0;
    }
}
