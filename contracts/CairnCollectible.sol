// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// An OpenZeppelin 5 ERC-721 whose owner mints tokens with consecutive ids, starting at 1.
contract CairnCollectible is ERC721, Ownable {
    uint256 public minted;

    constructor(address initialOwner) ERC721("Cairn Collectible", "CAIRNFT") Ownable(initialOwner) {}

    function mint(address to) external onlyOwner returns (uint256 tokenId) {
        tokenId = ++minted;
        _safeMint(to, tokenId);
    }
}
