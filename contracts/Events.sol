// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// Emits one log per call, for the log subscription and filter tests.
contract Events {
    event Ping(address indexed from, uint256 indexed value, bytes32 note);

    function ping(uint256 value) external {
        emit Ping(msg.sender, value, keccak256(abi.encode(value)));
    }
}
