// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// A plain OpenZeppelin 5 ERC-20: the whole supply goes to the deployer. Add it to MetaMask as a token.
contract CairnToken is ERC20 {
    constructor(uint256 initialSupply) ERC20("Cairn Token", "CAIRN") {
        _mint(msg.sender, initialSupply);
    }
}
