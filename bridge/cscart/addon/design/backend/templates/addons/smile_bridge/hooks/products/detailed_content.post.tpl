{* SMILE bridge: may this product be shipped directly to the buyer's customer (直送)? *}
{include file="common/subheader.tpl" title=__("smile_bridge.smile_bridge") target="#smile_bridge_product"}
<div id="smile_bridge_product" class="in collapse">
    <div class="control-group">
        <label class="control-label" for="smile_direct_ship_allowed">{__("smile_bridge.direct_ship_allowed")}</label>
        <div class="controls">
            <input type="hidden" name="product_data[smile_direct_ship_allowed]" value="N" />
            <input type="checkbox" id="smile_direct_ship_allowed" name="product_data[smile_direct_ship_allowed]" value="Y"
                {if $product_data.smile_direct_ship_allowed == "Y"}checked="checked"{/if} />
        </div>
    </div>
</div>
